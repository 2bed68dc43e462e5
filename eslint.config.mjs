/**
 * ESLint (flat config) with typescript-eslint, run by `npm test` (`npm run lint`).
 *
 * The recommended sets of ESLint and typescript-eslint, minus what tsc already checks (unused names, undefined
 * globals) and pure style (prefer-const). Added: the rules that catch bugs in code like ours: loose equality
 * (`==` between a decimal string and a number), self-comparison, loop conditions never modified, loops that
 * cannot loop. Syntax-only by design: a type-aware pass (no-floating-promises) is scoped to runtime code below.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeCommonJsGlobals = Object.fromEntries(
  ['require', 'process', 'console', '__dirname', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Buffer'].map((name) => [name, 'readonly']),
);
Object.assign(nodeCommonJsGlobals, { module: 'writable', exports: 'writable' });

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // tsc (noUnusedLocals, noUnusedParameters, definite assignment) reports these already.
      '@typescript-eslint/no-unused-vars': 'off',
      'no-unused-vars': 'off',
      'no-undef': 'off',
      'no-useless-assignment': 'off',
      // Style, not bugs.
      'prefer-const': 'off',
      eqeqeq: ['error', 'always'],
      'no-self-compare': 'error',
      'no-unmodified-loop-condition': 'error',
      'no-unreachable-loop': 'error',
      'no-constructor-return': 'error',
    },
  },
  {
    // The console's pages render API responses (JSON) whose shapes docs/openapi.json documents; typing every view
    // there would repeat the server's types by hand, so `any` is allowed in the browser code only.
    files: ['console/src/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests feed hostile input on purpose (imprecise numbers, `any` casts of malformed events), and wait on flags
    // that callbacks set (which no-unmodified-loop-condition cannot see).
    files: ['test/**'],
    rules: { 'no-loss-of-precision': 'off', '@typescript-eslint/no-explicit-any': 'off', 'no-unmodified-loop-condition': 'off' },
  },
  {
    // Plain Node scripts (the container health probe, tool configuration).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeCommonJsGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-undef': 'error' },
  },
);
