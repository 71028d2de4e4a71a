// Integration tests need the real stack; say so plainly instead of failing test by test.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

module.exports = async () => {
  const main = join(__dirname, '..', '..', '..', 'dist', 'services', 'vault', 'src', 'main.js');
  if (!existsSync(main)) {
    throw new Error('integration tests run the services from dist/: run `npm run build` first (npm test does)');
  }
};
