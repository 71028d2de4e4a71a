import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rule from './layered-imports';

const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
});

const layers = { gw: [['common'], ['settings'], ['connections'], ['sync', 'chart'], ['admin']] };
const options = [{ layers }];
const at = (file: string): string => `/repo/services/gw/src/${file}`;

tester.run('layered-imports', rule, {
  valid: [
    {
      name: 'downward, several layers',
      filename: at('chart/chart-intake.ts'),
      code: `import { x } from '../settings/settings'; import { y } from '../common/events';`,
      options,
    },
    { name: 'inside its own domain', filename: at('sync/sync.ts'), code: `import './status';`, options },
    {
      name: 'the composition root wires every domain',
      filename: at('app.module.ts'),
      code: `import { A } from './admin/admin.controller'; import { C } from './common/events';`,
      options,
    },
    {
      name: 'a domain reads the config',
      filename: at('settings/settings.ts'),
      code: `import type { Config } from '../config';`,
      options,
    },
    {
      name: 'a spec boots the app',
      filename: at('admin/openapi.spec.ts'),
      code: `import { AppModule } from '../app.module';`,
      options,
    },
    { name: 'packages are not its business', filename: at('common/x.ts'), code: `import 'zod';`, options },
    {
      name: 'a service without layers',
      filename: '/repo/services/other/src/a/x.ts',
      code: `import '../b/y';`,
      options,
    },
    { name: 'outside services', filename: '/repo/libs/x/src/a/y.ts', code: `import '../b/z';`, options },
    {
      name: 'tests next to src are not domains',
      filename: '/repo/services/gw/test/x.int-spec.ts',
      code: `import '../src/admin/y';`,
      options,
    },
  ],
  invalid: [
    {
      name: 'upward',
      filename: at('settings/settings.ts'),
      code: `import { C } from '../connections/connections.repository';`,
      options,
      errors: [{ messageId: 'upward' }],
    },
    {
      name: 'sideways within a layer',
      filename: at('sync/sync.ts'),
      code: `import { C } from '../chart/chart';`,
      options,
      errors: [{ messageId: 'upward' }],
    },
    {
      name: 're-export upward and a dynamic import upward',
      filename: at('common/index.ts'),
      code: `export { S } from '../settings/settings'; void import('../admin/x');`,
      options,
      errors: [{ messageId: 'upward' }, { messageId: 'upward' }],
    },
    {
      name: 'a domain imports the root module',
      filename: at('admin/admin.controller.ts'),
      code: `import { AppModule } from '../app.module';`,
      options,
      errors: [{ messageId: 'root' }],
    },
    {
      name: 'an unplaced domain',
      filename: at('reports/report.ts'),
      code: `import '../common/events';`,
      options,
      errors: [{ messageId: 'unplaced' }],
    },
    {
      name: 'into an unplaced domain',
      filename: at('admin/admin.ts'),
      code: `import '../reports/report';`,
      options,
      errors: [{ messageId: 'unplaced' }],
    },
  ],
});
