// After `tsc -p tsconfig.build.json`, make `require('@cloud-connect/<lib>')` resolve inside dist/
// without a runtime path-mapping hook: dist/node_modules/@cloud-connect/<lib> -> dist/libs/<lib>/src.
import { mkdirSync, readdirSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const scope = join(dist, 'node_modules', '@cloud-connect');
rmSync(scope, { recursive: true, force: true });
mkdirSync(scope, { recursive: true });
for (const lib of readdirSync(join(dist, 'libs'))) {
  const target = join('..', '..', 'libs', lib, 'src');
  if (existsSync(join(dist, 'libs', lib, 'src', 'index.js'))) symlinkSync(target, join(scope, lib));
}
