/* ESLint 9 in eslintrc mode (run with ESLINT_USE_FLAT_CONFIG=false): the design card fixes this file name. */
module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { projectService: true, tsconfigRootDir: __dirname },
  plugins: ['@typescript-eslint'],
  extends: [
    'eslint:recommended',
    'plugin:@typescript-eslint/strict-type-checked',
    'plugin:@typescript-eslint/stylistic-type-checked',
  ],
  env: { node: true, es2022: true },
  ignorePatterns: ['dist/', 'coverage/', 'node_modules/', 'docs/', '*.cjs'],
  rules: {
    'no-console': 'error',
    '@typescript-eslint/no-explicit-any': 'error',
    '@typescript-eslint/consistent-type-imports': 'error',
    '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
  },
  overrides: [
    {
      // The command-line tool, the demo and the benchmark talk to a terminal on purpose.
      files: ['src/cli/**', 'bench/**'],
      rules: { 'no-console': 'off' },
    },
    {
      files: ['__tests__/**'],
      rules: {
        // Jest's expect(...).rejects and mocks read more clearly without these.
        '@typescript-eslint/unbound-method': 'off',
        '@typescript-eslint/no-non-null-assertion': 'off',
      },
    },
  ],
};
