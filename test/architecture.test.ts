// The rules of the house (dependency-rules.mjs, DESIGN.md's "The house") hold for kiln's code, and
// each of them really fires on the import it forbids: a rule whose paths match nothing would pass
// forever, so every rule is also tried on a small tree that breaks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { REPO_ROOT } from '../scripts/lib/proc.js';

const rules = ((await import(pathToFileURL(join(REPO_ROOT, 'dependency-rules.mjs')).href)) as { default: IConfiguration }).default;

interface Violation {
  rule: string;
  from: string;
  to: string;
  /** For a cycle: the files around it, back to `from`. */
  cycle?: string[];
}

/** The rules' violations in the tree at `root` (src/ and machines/, as `npm run rules` checks them). */
async function violations(root: string): Promise<Violation[]> {
  const tsConfig = join(REPO_ROOT, 'tsconfig.json');
  const { output } = await cruise(
    ['src', 'machines'],
    // Files are named relative to `baseDir`, as the rules' paths are.
    { ...rules.options, baseDir: root, tsConfig: { fileName: tsConfig }, validate: true, ruleSet: { forbidden: rules.forbidden } },
    {},
    { tsConfig: extractTSConfig(tsConfig) },
  );
  return (output as ICruiseResult).summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to, cycle: v.cycle?.map((step) => step.name) }));
}

/** What a developer reads when the check fails: the rule, the import, and the rule's advice. */
function explain(v: Violation): string {
  const comment = rules.forbidden?.find((r) => r.name === v.rule)?.comment ?? '';
  const imports = v.cycle ? [v.from, ...v.cycle].join(' → ') : `${v.from} → ${v.to}`;
  return `${v.rule}: ${imports}\n    ${comment}`;
}

test("kiln's imports keep the rules of the house (dependency-rules.mjs)", { timeout: 300_000 }, async () => {
  const found = await violations(REPO_ROOT);
  assert.ok(found.length === 0, `${found.length} import(s) break the rules of dependency-rules.mjs:\n${found.map(explain).join('\n')}`);
});

// How the small tree imports: a plain import, an `import type`, or a dynamic `import()`.
type Kind = 'import' | 'type' | 'dynamic';
interface Edge {
  from: string;
  to: string;
  kind?: Kind;
}

/** One import per rule that breaks it (`rule`), and the imports the rules name as allowed (no `rule`). */
const edges: (Edge & { rule?: string })[] = [
  // A cycle is reported once, at the import that leads into it; the dynamic import closes it.
  { rule: 'no-cycle', from: 'src/engine/a.ts', to: 'src/engine/b.ts' },
  { from: 'src/engine/b.ts', to: 'src/engine/a.ts', kind: 'dynamic' },
  { rule: 'machines-are-pure', from: 'machines/build.machine.ts', to: 'node:fs' },
  { rule: 'machines-are-pure', from: 'machines/build.machine.ts', to: 'src/store/index.ts' },
  { from: 'machines/build.machine.ts', to: 'xstate' },
  { from: 'machines/policy.ts', to: 'src/template/spec.ts', kind: 'type' },
  { rule: 'only-main-imports-the-cli', from: 'src/store/store.ts', to: 'src/cli/render/describe.ts' },
  { rule: 'engine-drives-the-layers-below', from: 'src/engine/run.ts', to: 'src/gc/index.ts' },
  { from: 'src/engine/run.ts', to: 'src/provision/index.ts' },
  { rule: 'gc-works-on-the-client-and-the-store', from: 'src/gc/index.ts', to: 'src/engine/resume.ts' },
  { from: 'src/gc/index.ts', to: 'src/engine/tags.ts' },
  { from: 'src/gc/index.ts', to: 'src/template/duration.ts' },
  { rule: 'provision-works-over-the-communicator', from: 'src/provision/index.ts', to: 'src/scaleway/index.ts' },
  { rule: 'client-and-communicator-stand-alone', from: 'src/ssh/index.ts', to: 'src/scaleway/retry.ts' },
  { rule: 'client-and-communicator-stand-alone', from: 'src/scaleway/retry.ts', to: 'src/store/store.ts', kind: 'type' },
  { from: 'src/ssh/index.ts', to: 'src/shared/abort.ts' },
  { rule: 'store-is-the-foundation', from: 'src/store/store.ts', to: 'src/engine/run.ts' },
  { from: 'src/store/store.ts', to: 'machines/phases.ts' },
  { rule: 'template-is-a-leaf', from: 'src/template/spec.ts', to: 'src/store/index.ts', kind: 'type' },
  { from: 'src/template/spec.ts', to: 'src/ssh/library.ts' },
  { rule: 'shared-is-a-leaf', from: 'src/shared/abort.ts', to: 'src/template/duration.ts' },
  { rule: 'view-drives-nothing', from: 'src/view/timeline.ts', to: 'src/engine/run.ts' },
  { rule: 'view-drives-nothing', from: 'src/view/describe.ts', to: 'src/scaleway/index.ts' },
  { rule: 'view-drives-nothing', from: 'src/view/read.ts', to: 'node:fs' },
  { from: 'src/view/timeline.ts', to: 'src/scaleway/predict.ts' },
  { from: 'src/view/describe.ts', to: 'src/template/duration.ts' },
  { from: 'src/view/status.ts', to: 'src/store/index.ts' },
  { rule: 'report-renders-from-records', from: 'src/report/model.ts', to: 'src/store/index.ts' },
  { rule: 'report-renders-from-records', from: 'src/report/html.ts', to: 'node:fs' },
  { from: 'src/report/model.ts', to: 'src/store/api.ts', kind: 'type' },
  { from: 'src/report/model.ts', to: 'src/view/status.ts' },
  { rule: 'ui-reads-never-drives', from: 'src/ui/server.ts', to: 'src/engine/run.ts' },
  { rule: 'ui-reads-never-drives', from: 'src/ui/gc.ts', to: 'src/gc/index.ts' },
  { rule: 'ui-reads-never-drives', from: 'src/ui/gc.ts', to: 'src/gc/remove.ts' },
  { from: 'src/ui/gc.ts', to: 'src/gc/survey.ts' },
  { from: 'src/ui/server.ts', to: 'src/report/model.ts' },
  { from: 'src/ui/server.ts', to: 'src/view/read.ts' },
  { from: 'src/ui/server.ts', to: 'node:http' },
  { rule: 'only-the-cli-serves-the-ui', from: 'src/report/html.ts', to: 'src/ui/server.ts' },
  { from: 'src/cli/run/ui.ts', to: 'src/ui/server.ts' },
  { rule: 'sim-is-a-separate-world', from: 'src/sim/api.ts', to: 'src/shared/abort.ts' },
  { rule: 'only-the-cli-starts-the-simulator', from: 'src/scaleway/index.ts', to: 'src/sim/index.ts', kind: 'dynamic' },
  { from: 'src/cli/run/build.ts', to: 'src/sim/index.ts', kind: 'dynamic' },
  { from: 'src/cli/main.ts', to: 'src/engine/run.ts' },
];

/** Writes the small tree `edges` describe: each file imports its targets and exports a value and a type. */
function writeTree(root: string): void {
  const files = new Map<string, string[]>();
  for (const e of edges) {
    if (!files.has(e.from)) files.set(e.from, []);
    if (!e.to.includes(':') && e.to.includes('/') && !files.has(e.to)) files.set(e.to, []);
  }
  for (const e of edges) {
    const local = e.to.includes('/');
    const specifier = local ? `./${relative(dirname(e.from), e.to).replace(/\.ts$/, '.js')}`.replace(/^\.\/\.\.\//, '../') : e.to;
    const line =
      e.kind === 'type' ? `import type { Value } from '${specifier}';` : e.kind === 'dynamic' ? `export const load = () => import('${specifier}');` : `import '${specifier}';`;
    files.get(e.from)!.push(line);
  }
  for (const [path, lines] of files) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), [...lines, 'export type Value = number;', 'export const value = 1;', ''].join('\n'));
  }
  // Packages resolve as they do in the repository.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
}

test('each rule names itself when an import breaks it, and lets the imports it allows through', { timeout: 300_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-rules-'));
  try {
    writeTree(root);
    const found = await violations(root);
    // dependency-cruiser names node's modules without their `node:`.
    const fired = (e: Edge, rule?: string) =>
      found.filter((v) => v.from === e.from && v.to === e.to.replace(/^node:/, '') && (rule === undefined || v.rule === rule));
    for (const e of edges) {
      if (e.rule) assert.equal(fired(e, e.rule).length, 1, `${e.rule} should forbid ${e.from} → ${e.to}; found:\n${found.map(explain).join('\n')}`);
      else assert.deepEqual(fired(e).map(explain), [], `${e.from} → ${e.to} is allowed`);
    }
    const tried = new Set(edges.map((e) => e.rule));
    assert.deepEqual(rules.forbidden?.map((r) => r.name).filter((name) => !tried.has(name)), [], 'every rule is tried on an import that breaks it');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
