// What the demo scripts share: the repository root, the built eReferral fixtures and the state
// directory of the local stack (its secrets and stack.env).
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(new URL('..', import.meta.url).pathname);

/** The eReferral bundles of libs/testing, from the build (`npm run build`). */
export const fixtures = createRequire(import.meta.url)(
  join(root, 'dist/libs/testing/src/fixtures/ereferral-bundles.js'),
);

export const stateDir =
  process.env.CC_STATE_DIR ??
  join(
    process.env.CC_CACHE_DIR ??
      join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cloud-connect'),
    'stack',
  );
