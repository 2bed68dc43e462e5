/**
 * The layer table of docs/architecture.md, checked by dependency-cruiser in `npm test` (`npm run lint`).
 * A rule here is the contract; the table in the docs explains it. No baseline: a violation fails the build.
 */
/** Resolved paths: project files are relative to the repository root, packages live under node_modules/. */
const npmPackage = '^node_modules/';
const awsSdk = '^node_modules/@aws-sdk/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes load order decide behaviour. Type-only imports vanish at run time, so a cycle through them is allowed.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment: 'lambdas/domain is pure: money, BIC, statuses, errors. It imports nothing of ours outside domain (no ports, no config files).',
      from: { path: '^lambdas/domain/' },
      to: { pathNot: ['^lambdas/domain/', npmPackage], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-import-only-domain',
      severity: 'error',
      comment: 'Ports are the interfaces the use cases need, spoken in domain terms.',
      from: { path: '^lambdas/ports/' },
      to: { pathNot: ['^lambdas/(domain|ports)/', npmPackage], dependencyTypesNot: ['core'] },
    },
    {
      name: 'usecases-import-domain-and-ports',
      severity: 'error',
      comment: 'Use cases take their dependencies as ports; they never reach an adapter, a handler or the local engine.',
      from: { path: '^lambdas/usecases/' },
      to: { pathNot: ['^lambdas/(domain|ports|usecases)/', npmPackage], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-aws-sdk-inside-the-hexagon',
      severity: 'error',
      comment: 'Only adapters (and the edges that build them) talk to AWS.',
      from: { path: '^lambdas/(domain|ports|usecases)/' },
      to: { path: awsSdk },
    },
    {
      name: 'adapters-do-not-import-use-cases-or-edges',
      severity: 'error',
      comment:
        'Adapters implement ports; they never call a use case, a handler or the local engine (dependencies point inwards). The gRPC server (adapters/grpc) is the exception: it is an edge like the REST handlers, and calls use cases as they do.',
      from: { path: '^lambdas/adapters/', pathNot: '^lambdas/adapters/grpc/' },
      to: { path: '^lambdas/(usecases|handlers|local)/' },
    },
    {
      name: 'handlers-do-not-import-the-local-engine',
      severity: 'error',
      comment: 'Handlers are what ships to Lambda: they use use cases and adapters, never the local stand-ins.',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lambdas/local/' },
    },
    {
      name: 'lambdas-do-not-import-infra-or-bin',
      severity: 'error',
      comment: 'Runtime code never depends on the CDK app or an entry point.',
      from: { path: '^lambdas/' },
      to: { path: '^(infra|bin)/' },
    },
    {
      name: 'infra-imports-definitions-only',
      severity: 'error',
      comment:
        'CDK code may read shared definitions (domain constants, metric names, table definitions) but not runtime code: handlers, use cases and the local engine are bundled, not imported. bin/app.ts passes what infra needs of them (the REST route table) as props.',
      from: { path: '^infra/' },
      to: { path: '^lambdas/(handlers|usecases|local)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports are dependencies too: a port typed in adapter terms is a layer violation.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
