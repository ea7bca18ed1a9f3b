/**
 * Layer rules of docs/ARCHITECTURE.md §1, enforced by dependency-cruiser (test/architecture/layers.test.ts runs it):
 * domain imports nothing outside itself; infra never imports application; libs never import apps or the composition
 * root; no app imports another app; only entry points reach the composition root.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-app-to-app',
      comment: 'An app never imports another app: shared code lives in libs, composition in composition/.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'libs/domain imports nothing outside itself: no Nest, no pg, no node: modules, no packages.',
      severity: 'error',
      from: { path: '^libs/domain/', pathNot: '\\.spec\\.ts$' },
      to: { pathNot: '^libs/domain/' },
    },
    {
      name: 'contracts-are-wire-shapes',
      comment: 'libs/contracts holds the HTTP wire shapes the api, the CLI and the web page share: it imports the domain only.',
      severity: 'error',
      from: { path: '^libs/contracts/' },
      to: { pathNot: '^libs/(contracts|domain)/' },
    },
    {
      name: 'infra-not-application',
      comment: 'Adapters (libs/infra) depend on the domain only, never on application services.',
      severity: 'error',
      from: { path: '^libs/infra/' },
      to: { path: '^libs/application/' },
    },
    {
      name: 'libs-not-apps',
      comment: 'Libraries never import an app or the composition root.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|composition)/' },
    },
    {
      name: 'composition-only-from-entry-points',
      comment: 'Only entry points (main.ts, the CLI) start the composition root.',
      severity: 'error',
      from: { path: '^apps/', pathNot: '^apps/[^/]+/src/(main|cli)\\.ts$' },
      to: { path: '^composition/' },
    },
    {
      name: 'production-not-tests',
      comment: 'Production code never imports test support.',
      severity: 'error',
      from: { path: '^(apps|libs|composition)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
