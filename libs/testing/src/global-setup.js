// Integration tests need the real stack; say so plainly instead of failing test by test.
const { existsSync } = require('node:fs');
const { isAbsolute, join } = require('node:path');

module.exports = async () => {
  const custom = process.env.CC_DIST_DIR;
  const dist = custom && isAbsolute(custom) ? custom : join(__dirname, '..', '..', '..', custom || 'dist');
  const main = join(dist, 'services', 'vault', 'src', 'main.js');
  if (!existsSync(main)) {
    throw new Error(
      'integration tests run the services from dist/: run `npm run build` first (npm test does)',
    );
  }
};
