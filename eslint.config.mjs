// Lint for everything in the repo that is ours: eslint's and typescript-eslint's recommended rules, no
// formatting rules (layout is left as written). ESLint rather than Biome: typescript-eslint's rules are the ones a
// reviewer of TypeScript expects, under the names they know. Not the type-checked presets: on this 2-core machine
// they took 75 s (against 10-20 s) and report ~2,500 `no-unsafe-*` findings, mostly CloudFormation JSON read as
// `any`; `tsc --noEmit` in `pretest` type-checks. Runs in `npm test` via `pretest`, warnings fail it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/cdk.out/',
      '**/cdk.out.*/',
      '.local/',
      'coverage/',
      'out/',
      '.scratch/',
      'src/contract/types.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names and rest-sibling omissions (`const { pk: _p, ...item } = row`) are the codebase's way
      // to say "deliberately unused".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `let { a, b } = f()` where only some are reassigned is fine; flag it only when none are.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      // Each command loads its implementation with a typed lazy `require()` so `--help`, usage errors and the
      // other commands do not load the local runtime, the simulator or the AWS SDK clients.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benchmarks pick through synthesized CloudFormation JSON (`Template.findResources` is itself
      // `any`-typed); spelling out every resource shape there adds casts, not safety.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['console/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    files: ['**/*.js'],
    ignores: ['console/static/**'],
    languageOptions: { sourceType: 'commonjs' },
    // CommonJS files (the bin shim, the local Lambda worker, test fixture handlers) import with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
