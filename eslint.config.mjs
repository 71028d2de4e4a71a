// One config for the workspace: strict, type-aware, zero warnings (`npm run lint`).
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import cloudConnect from './tools/eslint-plugin/index.js';

/** Libs are imported by their alias and through their root, everywhere. */
const libImportPatterns = [
  {
    group: ['@cloud-connect/*/*'],
    message: 'Import a lib through its root (@cloud-connect/<lib>), never its internals.',
  },
  {
    group: ['**/libs/*', '**/libs/**'],
    message: 'Import libs by their alias (@cloud-connect/<lib>).',
  },
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.nx/**', 'deploy/helm/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-extraneous-class': 'off', // Nest modules are decorated empty classes
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off', // Nest option objects are plain literals
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [...libImportPatterns],
        },
      ],
    },
  },
  {
    // Invariants of the layout: projects depend only in the allowed directions (Nx project tags),
    // and no file takes part in an import cycle.
    files: ['**/*.ts'],
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.base.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
          ],
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Every HTTP route declares who may call it (tools/eslint-plugin/route-access.js).
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/test/**'],
    plugins: { 'cloud-connect': cloudConnect },
    rules: { 'cloud-connect/route-access': 'error' },
  },
  {
    // Inside a service, domain folders import each other downward only (bottom layer first);
    // the files directly in src/ (modules, main) are the composition root and wire them up.
    // tools/eslint-plugin/layered-imports.js; docs/emr.md draws the gateway's layers.
    files: ['services/*/src/**/*.ts'],
    plugins: { 'cloud-connect': cloudConnect },
    rules: {
      'cloud-connect/layered-imports': [
        'error',
        {
          layers: {
            'emr-gateway': [
              ['common'],
              ['adapters'],
              ['settings'],
              ['connections'],
              ['commands'],
              ['sync', 'chart'],
              ['status'],
              ['admin'],
            ],
            vault: [['kv'], ['audit', 'sites', 'identity'], ['sek'], ['phi', 'operator'], ['account']],
            'referral-intake': [
              ['common', 'crypto'],
              ['fhir-messages'],
              ['oauth'],
              ['forms', 'fhir-api'],
              ['chart-content'],
              ['integrations'],
              ['copies'],
              ['status-updates'],
              ['referrals'],
            ],
            scheduler: [['reminders'], ['schedules'], ['admin']],
            notifier: [['common'], ['templates', 'mail', 'sms'], ['delivery']],
          },
        },
      ],
    },
  },
  {
    // Test suites may run other projects' simulators and borrow their fixtures in-process.
    files: ['services/*/test/**/*.ts', 'services/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The admin CLI goes through the services' HTTP APIs only: it never imports a service's code
    // and never opens a database (no driver, no ORM, no database lib).
    files: ['tools/cli/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...libImportPatterns,
            {
              group: ['**/services/**', '**/services'],
              message: "The CLI calls the services' admin APIs; it never imports their code.",
            },
            {
              group: ['@cloud-connect/db', 'typeorm', 'typeorm/*', 'pg', 'pg/*', 'pg-*', 'postgres'],
              message: "The CLI never opens a database: call the owning service's admin API.",
            },
          ],
        },
      ],
    },
  },
  {
    // The console's web app: browser code, React (TSX), its own tsconfig.
    files: ['services/console/web/**/*.ts', 'services/console/web/**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.browser,
    },
    rules: { '@typescript-eslint/no-confusing-void-expression': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/ban-ts-comment': 'off',
      'no-console': 'off',
    },
  },
  prettier,
);
