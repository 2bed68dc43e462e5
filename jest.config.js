/** Jest runs TypeScript through ts-jest in transpile-only mode (`npm test` type-checks first with tsc). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
  transform: {
    // ESM-only dependencies (middy) are transpiled to CommonJS along with our own code.
    '^.+\\.(ts|js|mjs)$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node10', allowJs: true, esModuleInterop: true, target: 'ES2022', isolatedModules: true, verbatimModuleSyntax: false } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
