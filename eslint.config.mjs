// One real constraint per layer: packages import only leftwards along
// io → tensor-runtime → data → backbone → descriptor → memory-bank → scoring → method-kit → the
// methods (cfa, …; a method imports no other method: they share one layer, and a layer may only
// import the layers before it); metrics imports nothing, tracking only io (crash-safe file
// writes); only apps wire it all; nothing imports tools.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const pipeline = [
  'layer:io',
  'layer:runtime',
  'layer:data',
  'layer:backbone',
  'layer:descriptor',
  'layer:memory-bank',
  'layer:scoring',
  'layer:method-kit',
  'layer:method',
];
const upstreamOf = (tag) => pipeline.slice(0, pipeline.indexOf(tag));
const noTensors = ['@tensorflow/*', 'onnxruntime-node', 'onnxruntime-common', 'sharp'];
const noHttp = ['undici', 'node:http', 'http', 'node:https', 'https'];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', '**/__fixtures__/**', '**/*.py'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@cfa/*/*', '!@cfa/*/testing'],
              message: 'Import a package only through its public entry (src/index.ts).',
            },
          ],
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            ...pipeline.map((tag) => ({
              sourceTag: tag,
              onlyDependOnLibsWithTags: upstreamOf(tag),
              bannedExternalImports: noHttp,
            })),
            {
              sourceTag: 'layer:metrics',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: [...noTensors, ...noHttp],
            },
            { sourceTag: 'layer:tracking', onlyDependOnLibsWithTags: ['layer:io'], bannedExternalImports: noTensors },
            {
              sourceTag: 'layer:app',
              onlyDependOnLibsWithTags: [...pipeline, 'layer:metrics', 'layer:tracking'],
              bannedExternalImports: noHttp,
            },
            { sourceTag: 'layer:tools', onlyDependOnLibsWithTags: [...pipeline, 'layer:metrics', 'layer:tracking'] },
          ],
        },
      ],
    },
  },
  {
    // test servers, suites, oracles and test files ship from @cfa/<package>/testing: only tests, the property
    // modules they run in a worker (*.fuzz.ts), test helpers and tools use them
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.fuzz.ts', '**/testing/**', 'tools/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@cfa/*/*', '!@cfa/*/testing'],
              message: 'Import a package only through its public entry (src/index.ts).',
            },
            {
              group: ['@cfa/*/testing'],
              message: 'Test servers and test files are for tests: production code imports the package itself.',
            },
          ],
        },
      ],
    },
  },
];
