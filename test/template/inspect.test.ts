// kiln inspect prints what `packer inspect` (Packer 1.6.6) prints: the whole output, plain and
// -machine-readable (timestamps aside), for the valid templates of the HCL2 oracle corpus and for
// JSON templates of every shape kiln reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInspect } from '../../src/cli/run/inspect.js';
import { loadTemplate, TemplateError } from '../../src/template/index.js';
import { CORPUS, SECRET_KEY, source, type CorpusCase } from './hcl/corpus.js';
import { packerMissing, runPacker } from '../helpers/packer.js';
import { JSON_TEMPLATES, KILN_TOKEN } from './json-templates.js';
import { inDirectory } from '../helpers/cwd.js';

async function kilnInspect(dir: string, c: CorpusCase, machine: boolean): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const env = { ...process.env };
  Object.assign(process.env, c.env ?? {});
  try {
    const code = await inDirectory(dir, () =>
      runInspect(
        { template: c.file ?? '.', var: Object.entries(c.vars ?? {}).map(([k, v]) => `${k}=${v}`), 'var-file': c.varFiles ?? [], 'machine-readable': machine },
        { stdout: (text) => void (stdout += text), stderr: (text) => void (stdout += text) },
      ),
    );
    return { code, stdout };
  } finally {
    process.env = env;
  }
}

function packerArgs(c: CorpusCase, machine: boolean): string[] {
  return ['inspect', ...(machine ? ['-machine-readable'] : []), ...Object.entries(c.vars ?? {}).flatMap(([k, v]) => ['-var', `${k}=${v}`]), ...(c.varFiles ?? []).flatMap((f) => ['-var-file', f]), c.file ?? '.'];
}

const withoutTimestamps = (text: string) => text.replace(/^\d+,/gm, '');

// Packer 1.6.6 hides sensitive values in its plain output but prints them in -machine-readable
// lines; kiln hides them in both.
const SECRETS = [SECRET_KEY, KILN_TOKEN];
const hidden = (text: string) => SECRETS.reduce((out, secret) => out.split(secret).join('<sensitive>'), text);

// The HCL2 cases kiln loads without problems (Packer's inspect also shows invalid templates; kiln's refuses them).
async function validCases(): Promise<CorpusCase[]> {
  const valid: CorpusCase[] = [];
  for (const c of CORPUS) {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-valid-'));
    try {
      for (const [file, text] of Object.entries(c.files)) writeFileSync(join(dir, file), text);
      await inDirectory(dir, async () => {
        try {
          await loadTemplate(c.file ?? '.', { env: { HOME: dir, ...(c.env ?? {}) }, vars: c.vars ?? {}, varFiles: (c.varFiles ?? []).map((f) => join(dir, f)) });
          valid.push(c);
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return valid;
}

// Builds with the parts the oracle corpus leaves out: names, descriptions, named provisioners, post-processor lists.
const BUILD_SHAPES: CorpusCase[] = [
  {
    name: 'named build with a description, named provisioners and post-processors',
    files: {
      'build.pkr.hcl': `${source()}build {\n  name        = "web"\n  description = "The web image"\n  sources     = ["source.scaleway.base"]\n\n  provisioner "shell" {\n    name   = "packages"\n    inline = ["echo one"]\n  }\n  provisioner "shell" {\n    inline = ["echo two"]\n  }\n\n  post-processor "manifest" {\n    output = "manifest.json"\n  }\n  post-processors {\n    post-processor "shell-local" {\n      name   = "notify"\n      inline = ["echo built"]\n    }\n    post-processor "manifest" {\n      output = "again.json"\n    }\n  }\n}\n`,
    },
  },
  {
    name: 'two named builds and a local from a sensitive variable',
    files: {
      'build.pkr.hcl': `variable "token" {\n  default   = "${SECRET_KEY}"\n  sensitive = true\n}\nlocals {\n  header = "Bearer \${var.token}"\n}\n${source('one')}${source('two')}build {\n  name    = "first"\n  sources = ["source.scaleway.one"]\n}\nbuild {\n  name    = "second"\n  sources = ["source.scaleway.two"]\n  provisioner "shell-local" {\n    inline = ["echo local"]\n  }\n}\n`,
    },
  },
];

describe('kiln inspect against packer inspect (Packer 1.6.6)', { skip: packerMissing }, async () => {
  const hcl = [...(await validCases()), ...BUILD_SHAPES];
  const cases: CorpusCase[] = [...hcl, ...Object.entries(JSON_TEMPLATES).map(([name, template]) => ({ name: `json: ${name}`, files: { 'template.json': JSON.stringify(template, null, 2), motd: 'hi\n' }, file: 'template.json' }))];

  it(`has a corpus of at least 40 templates, JSON and HCL2 (${hcl.length} HCL2, ${cases.length - hcl.length} JSON)`, () => {
    assert.ok(cases.length >= 40 && cases.length - hcl.length >= 8);
  });

  for (const c of cases) {
    it(c.name, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-'));
      try {
        for (const [file, text] of Object.entries(c.files)) writeFileSync(join(dir, file), text);
        for (const machine of [false, true]) {
          const packer = await runPacker(packerArgs(c, machine), dir, { env: c.env ?? {} });
          assert.equal(packer.code, 0, packer.output);
          const kiln = await kilnInspect(dir, c, machine);
          assert.equal(kiln.code, 0, kiln.stdout);
          assert.equal(withoutTimestamps(kiln.stdout), withoutTimestamps(machine ? hidden(packer.stdout) : packer.stdout), machine ? '-machine-readable' : 'plain');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
