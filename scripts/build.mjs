// Compiles libs, services and tools with tsc into dist/ (or $CC_DIST_DIR), then makes
// `require('@cloud-connect/<lib>')` resolve inside it without a runtime path-mapping hook:
// <dist>/node_modules/@cloud-connect/<lib> -> <dist>/libs/<lib>/src.
//
//   node scripts/build.mjs                      the whole workspace (npm run build)
//   node scripts/build.mjs services/vault ...   only these projects and the libs they import
//                                               (what each Nx project's `build` target runs)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = resolve(root, process.env.CC_DIST_DIR ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const projects = process.argv.slice(2);
let config = join(root, 'tsconfig.build.json');
if (projects.length > 0) {
  for (const project of projects) {
    if (!existsSync(join(root, project, 'src'))) {
      console.error(`build: ${project} is not a project with a src/ folder`);
      process.exit(2);
    }
  }
  // A config of its own per set of projects, so parallel builds of different projects never
  // share one file; tsc follows their imports into libs and emits those too.
  const dir = join(root, 'tmp', 'build');
  mkdirSync(dir, { recursive: true });
  config = join(dir, `tsconfig.${projects.map((p) => p.replace(/[^a-z0-9]+/gi, '-')).join('.')}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(dir, join(root, 'tsconfig.build.json')),
      include: projects.map((p) => relative(dir, join(root, p, 'src', '**', '*.ts'))),
    }),
  );
}
execFileSync(process.execPath, [tsc, '-p', config, '--outDir', dist], { stdio: 'inherit' });

const scope = join(dist, 'node_modules', '@cloud-connect');
mkdirSync(scope, { recursive: true });
for (const lib of readdirSync(join(dist, 'libs'))) {
  if (!existsSync(join(dist, 'libs', lib, 'src', 'index.js'))) continue;
  const link = join(scope, lib);
  rmSync(link, { recursive: true, force: true });
  symlinkSync(join('..', '..', 'libs', lib, 'src'), link);
}

// The console's web app (React + Vite) into <dist>/services/console/web, served by the console.
if (projects.length === 0 || projects.includes('services/console')) {
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  execFileSync(
    process.execPath,
    [vite, 'build', '--config', join(root, 'services', 'console', 'web', 'vite.config.mjs')],
    { stdio: 'inherit', env: { ...process.env, CC_DIST_DIR: dist } },
  );
}
