// The house's allowed arrows, written once (docs: README.md, "Layout"). `make test` checks every
// import of src/, test/ and bench/ against them with dependency-cruiser (scripts/check-house.sh);
// test/house/rules.test.ts proves each rule reports the arrow it forbids.

/**
 * The engine's floors, lowest first: each may import its own floor and the ones below, never one
 * above. Data flows up this list (capture → http → store → pxl → api → cli), so an import always
 * points back down the flow. The ground floor (schema.ts, version.ts) is the vocabulary every
 * floor speaks.
 */
const FLOORS = [
  { name: 'ground', path: '^src/engine/(schema|version)\\.ts$' },
  { name: 'capture', path: '^src/engine/capture/' },
  { name: 'meta', path: '^src/engine/meta/' },
  { name: 'http', path: '^src/engine/http/' },
  { name: 'conns', path: '^src/engine/conns/' },
  { name: 'store', path: '^src/engine/store/' },
  { name: 'agent', path: '^src/engine/agent\\.ts$' },
  { name: 'pxl', path: '^src/engine/pxl/' },
  { name: 'api', path: '^src/engine/api/' },
  { name: 'broker', path: '^src/engine/broker/' },
  { name: 'cli', path: '^src/engine/cli/' },
];

/** Unit tests live beside the code; production code is the rest of src/engine and src/plugin. */
const TESTS = '\\.test\\.tsx?$';

const upward = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `no-arrow-up-from-${floor.name}`,
  comment: `${floor.name} may import only ${FLOORS.slice(0, i + 1).map((f) => f.name).join(', ')}: the engine's dependencies point one way`,
  severity: 'error',
  from: { path: floor.path },
  to: { path: FLOORS.slice(i + 1).map((f) => f.path) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'engine-floors-only',
      comment: 'every file of the engine stands on one of the floors above (a new folder is placed there first)',
      severity: 'error',
      from: { path: '^src/engine/', pathNot: FLOORS.map((f) => f.path) },
      to: {},
    },
    {
      name: 'plugin-sees-only-the-api-contract',
      comment: 'the plugin keeps its own copy of the API contract (docs/api.md) and imports nothing of the engine',
      severity: 'error',
      from: { path: '^src/plugin/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'engine-does-not-know-the-plugin',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/plugin/' },
    },
    {
      name: 'production-code-imports-no-test-support',
      comment: 'src/testkit, test/ and bench/ serve tests; the engine and the plugin never import them',
      severity: 'error',
      from: { path: '^src/(engine|plugin)/', pathNot: TESTS },
      to: { path: ['^src/testkit/', '^test/', '^bench/', TESTS] },
    },
    {
      name: 'unit-tests-import-no-end-to-end-support',
      comment: 'a unit test uses src/testkit, never test/ or bench/',
      severity: 'error',
      from: { path: `^src/.*${TESTS}` },
      to: { path: ['^test/', '^bench/'] },
    },
    {
      name: 'testkit-stands-on-its-own',
      comment: 'the test kit serves the end-to-end tests and benches; it does not use them',
      severity: 'error',
      from: { path: '^src/testkit/' },
      to: { path: ['^test/', '^bench/'] },
    },
    {
      name: 'no-import-loops',
      comment: 'files that import each other (type imports too) cannot be understood one at a time',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(out|dist|node_modules)/' },
    // Type-only imports are arrows too: they tie the files' meanings together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
