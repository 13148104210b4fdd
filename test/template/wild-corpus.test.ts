// Templates in the wild (test/fixtures/wild): templates written in the shapes of Scaleway Packer
// templates people published, run through `kiln validate` as their projects run `packer validate`
// (their var files, -var, -only). Each must be accepted, with the warnings the entry names; the
// last test states how many of the corpus kiln accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runValidate } from '../../src/template/validate.js';

// From sources (test/template) or from dist (dist/test/template): the fixtures stay in test/.
const corpusDir = [new URL('../fixtures/wild/', import.meta.url), new URL('../../../test/fixtures/wild/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((p) => existsSync(join(p, 'corpus.json')))!;

interface Entry {
  name: string;
  template: string;
  models: string;
  var?: string[];
  'var-file'?: string[];
  only?: string[];
  warns?: string[];
}

// The credentials their projects take from the environment (Makefiles export them).
const environment = {
  SCW_ACCESS_KEY: 'SCWWILDXXXXXXXXXXXXX',
  SCW_SECRET_KEY: '33333333-3333-4333-8333-333333333333',
  SCW_DEFAULT_PROJECT_ID: '44444444-4444-4444-8444-444444444444',
  SCALEWAY_API_TOKEN: '33333333-3333-4333-8333-333333333333',
  SCALEWAY_ORGANIZATION: '44444444-4444-4444-8444-444444444444',
};

const { entries } = JSON.parse(readFileSync(join(corpusDir, 'corpus.json'), 'utf8')) as { entries: Entry[] };

async function validate(entry: Entry): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const at = (file: string) => join(corpusDir, file);
  const cwd = process.cwd();
  const saved = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, environment);
  // Relative paths in a template (scripts, files) are the template's folder's, as a project runs it.
  process.chdir(corpusDir);
  try {
    const code = await runValidate(
      { template: at(entry.template), var: entry.var, 'var-file': entry['var-file']?.map(at), only: entry.only },
      { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) },
    );
    return { code, stdout, stderr };
  } finally {
    process.chdir(cwd);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('templates in the wild', () => {
  const accepted: string[] = [];
  for (const entry of entries) {
    it(`${entry.name} (${entry.template})`, { timeout: 60_000 }, async () => {
      const result = await validate(entry);
      assert.equal(result.code, 0, `refused:\n${result.stderr}`);
      for (const warning of entry.warns ?? []) assert.match(result.stderr, new RegExp(`warning: .*${warning}`), `warns about ${warning}`);
      accepted.push(entry.name);
    });
  }
  it('the count: how many of the corpus kiln accepts', { timeout: 10_000 }, (t) => {
    t.diagnostic(`kiln accepts ${accepted.length} of ${entries.length} templates in the wild`);
    assert.equal(accepted.length, entries.length, `refused: ${entries.filter((e) => !accepted.includes(e.name)).map((e) => e.name).join(', ')}`);
  });
});
