// Compiles libs, services and tools with tsc into dist/ (or $CC_DIST_DIR), then makes
// `require('@cloud-connect/<lib>')` resolve inside it without a runtime path-mapping hook:
// <dist>/node_modules/@cloud-connect/<lib> -> <dist>/libs/<lib>/src.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = resolve(root, process.env.CC_DIST_DIR ?? 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
  stdio: 'inherit',
});

const scope = join(dist, 'node_modules', '@cloud-connect');
rmSync(scope, { recursive: true, force: true });
mkdirSync(scope, { recursive: true });
for (const lib of readdirSync(join(dist, 'libs'))) {
  if (existsSync(join(dist, 'libs', lib, 'src', 'index.js'))) {
    symlinkSync(join('..', '..', 'libs', lib, 'src'), join(scope, lib));
  }
}

// The console's web app (React + Vite) into <dist>/services/console/web, served by the console.
const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
execFileSync(
  process.execPath,
  [vite, 'build', '--config', join(root, 'services', 'console', 'web', 'vite.config.mjs')],
  { stdio: 'inherit', env: { ...process.env, CC_DIST_DIR: dist } },
);
