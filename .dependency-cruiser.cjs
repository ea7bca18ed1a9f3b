/**
 * Layer rules of docs/ARCHITECTURE.md §1, enforced by dependency-cruiser (test/architecture/layers.test.ts runs it):
 * domain imports nothing outside itself; infra never imports application; libs never import apps or the composition
 * root; no app imports another app; only entry points reach the composition root.
 */

/** One forbidden dependency: modules matching `from` must not import modules matching `to`; every layer rule is an error. */
const forbid = (name, from, to, comment) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    forbid('no-app-to-app', { path: '^apps/([^/]+)/' }, { path: '^apps/', pathNot: '^apps/$1/' },
      'An app never imports another app: shared code lives in libs, composition in composition/.'),
    forbid('domain-is-pure', { path: '^libs/domain/', pathNot: '\\.spec\\.ts$' }, { pathNot: '^libs/domain/' },
      'libs/domain imports nothing outside itself: no Nest, no pg, no node: modules, no packages.'),
    forbid('contracts-are-wire-shapes', { path: '^libs/contracts/' }, { pathNot: '^libs/(contracts|domain)/' },
      'libs/contracts holds the HTTP wire shapes the api, the CLI and the web page share: it imports the domain only.'),
    forbid('infra-not-application', { path: '^libs/infra/' }, { path: '^libs/application/' },
      'Adapters (libs/infra) depend on the domain only, never on application services.'),
    forbid('libs-not-apps', { path: '^libs/' }, { path: '^(apps|composition)/' },
      'Libraries never import an app or the composition root.'),
    forbid('composition-only-from-entry-points', { path: '^apps/', pathNot: '^apps/[^/]+/src/(main|cli)\\.ts$' }, { path: '^composition/' },
      'Only entry points (main.ts, the CLI) start the composition root.'),
    forbid('production-not-tests', { path: '^(apps|libs|composition)/', pathNot: '\\.spec\\.ts$' }, { path: '^test/' },
      'Production code never imports test support.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
