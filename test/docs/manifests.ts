/**
 * `kubectl apply -f -` for the docs' test, where there is no API server: reads the manifests on
 * stdin and validates each against the Kubernetes OpenAPI schemas (test/deploy/kube.ts); exits
 * 1 naming every problem, 0 when all are valid.
 */
import { readFileSync } from 'node:fs';
import { parseManifests, problems } from '../deploy/kube.js';

const docs = parseManifests(readFileSync(0, 'utf8'), 'stdin');
const found = docs.flatMap((d) => problems(d).map((p) => `${d.kind}/${d.metadata.name}: ${p}`));
if (docs.length === 0) found.push('no manifest on stdin');
for (const p of found) console.error(p);
process.exitCode = found.length > 0 ? 1 : 0;
