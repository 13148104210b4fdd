// Packer 1.6.6 as the oracle for HCL2: for every template of the corpus, kiln's verdict and
// first error line equal `packer validate`'s, and for the valid ones the variables, locals and
// each build's sources and provisioners (in order) equal `packer inspect`'s.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate, TemplateError } from '../../../src/template/index.js';
import { inspectHclTemplate } from '../../../src/template/inspect.js';
import { renderMultiline } from '../../../src/template/hcl/value.js';
import { CORPUS, type CorpusCase } from './corpus.js';
import { packerMissing, runPacker } from '../../helpers/packer.js';
import { inDirectory } from '../../helpers/cwd.js';

function packerArgs(command: string, c: CorpusCase): string[] {
  return [command, ...Object.entries(c.vars ?? {}).flatMap(([k, v]) => ['-var', `${k}=${v}`]), ...(c.varFiles ?? []).flatMap((f) => ['-var-file', f]), c.file ?? '.'];
}

/** `var.x: "…"` / `local.y: "…"` lines of `packer inspect`, unquoted. */
function inspectValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^((?:var|local)\.[\w-]+): (".*")$/.exec(line.trim());
    if (match) out[match[1]!] = JSON.parse(match[2]!) as string;
  }
  return out;
}

/** Builds of `packer inspect`: the source names and provisioner types under each build. */
function inspectBuilds(stdout: string): Array<{ sources: string[]; provisioners: string[] }> {
  const builds: Array<{ sources: string[]; provisioners: string[] }> = [];
  let section: 'sources' | 'provisioners' | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('> <unnamed build') || /^> [\w-]+:$/.test(line) && builds.length >= 0 && raw.startsWith('  >')) builds.push({ sources: [], provisioners: [] });
    else if (line === 'sources:' || line === 'provisioners:') section = line.slice(0, -1) as 'sources';
    else if (line === 'post-processors:') section = undefined;
    else if (line && section && builds.length) builds[builds.length - 1]![section].push(line);
  }
  return builds;
}

describe('HCL2 templates against Packer 1.6.6', { skip: packerMissing }, () => {
  it(`has a corpus of at least 40 templates (${CORPUS.length})`, () => {
    assert.ok(CORPUS.length >= 40);
  });

  for (const c of CORPUS) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-oracle-'));
      try {
        for (const [file, text] of Object.entries(c.files)) writeFileSync(join(dir, file), text);
        const packer = await runPacker(packerArgs('validate', c), dir, { env: c.env ?? {} });
        const packerText = packer.stdout + packer.stderr;
        const options = { env: { HOME: dir, ...(c.env ?? {}) }, vars: c.vars ?? {}, varFiles: (c.varFiles ?? []).map((f) => join(dir, f)) };
        const kiln = await inDirectory(dir, async () => {
          try {
            await loadTemplate(c.file ?? '.', options);
            return { valid: true as const };
          } catch (error) {
            if (!(error instanceof TemplateError)) throw error;
            return { valid: false as const, problems: error.problems };
          }
        });
        assert.equal(kiln.valid, packer.code === 0, `packer validate: ${packerText}\nkiln: ${JSON.stringify(kiln)}`);
        if (!kiln.valid) {
          const line = /on \S+ line (\d+)/.exec(packerText)?.[1];
          // Packer names no line for command-line problems (-var) and a few others.
          if (line !== undefined) {
            const expected = c.anyOfLines ?? [Number(line)];
            assert.ok(expected.includes(Number(line)), `packer named line ${line}, not one of ${expected.join(', ')}: ${packerText}`);
            assert.ok(expected.includes(kiln.problems[0]!.location?.line ?? -1), `packer: ${packerText}\nkiln: ${JSON.stringify(kiln.problems[0])}`);
          }
          return;
        }
        const inspect = await runPacker(packerArgs('inspect', c), dir, { env: c.env ?? {} });
        assert.equal(inspect.code, 0, inspect.stdout + inspect.stderr);
        const theirs = inspectValues(inspect.stdout);
        const ours = await inDirectory(dir, () => inspectHclTemplate(c.file ?? '.', options));
        const mine: Record<string, string> = {};
        for (const [name, v] of Object.entries(ours.variables)) mine[`var.${name}`] = v.sensitive ? '<sensitive>' : renderMultiline(v.value);
        for (const [name, v] of Object.entries(ours.locals)) mine[`local.${name}`] = renderMultiline(v);
        assert.deepEqual(mine, theirs);
        assert.deepEqual(ours.builds.map(({ sources, provisioners }) => ({ sources, provisioners })), inspectBuilds(inspect.stdout));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
