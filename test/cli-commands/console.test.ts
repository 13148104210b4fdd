// kiln console prints what `packer console` (Packer 1.6.6) prints: every expression of the HCL2
// expression corpus against a template with variables and locals, batches of piped lines (only
// the last value is printed, every error is reported), JSON templates' Go template strings; and
// it answers line by line at an interactive prompt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runConsole } from '../../src/cli/run/console.js';
import { EXPRESSIONS } from '../template/hcl/expressions.js';
import { JSON_TEMPLATES, KILN_TOKEN } from '../template/json-templates.js';
import { packerMissing, runPacker } from '../helpers/packer.js';
import { runKiln } from '../helpers/cli.js';
import { inDirectory } from '../helpers/cwd.js';

const TEMPLATE = `variable "zone" {
  default = "fr-par-1"
}
variable "packages" {
  type    = list(string)
  default = ["nginx", "curl"]
}
variable "token" {
  default   = "${KILN_TOKEN}"
  sensitive = true
}
locals {
  name   = "img-\${var.zone}"
  counts = { for p in var.packages : p => length(p) }
  auth   = "Bearer \${var.token}"
}
`;

// Expressions that read the template.
const TEMPLATE_EXPRESSIONS = ['var.zone', 'upper(var.zone)', 'local.name', 'local.counts', 'var.packages', 'var.packages[1]', 'join(" ", var.packages)', 'local.auth', 'variables', '"${var.zone}-${length(var.packages)}"'];

/** Packer 1.6.6 prints its errors on stdout, as blocks ending in two blank lines; kiln prints them on stderr. */
const withoutErrors = (stdout: string) => stdout.replace(/^Error: [\s\S]*?\n\n\n/gm, '');

/** In-memory stdin, stdout and stderr for runConsole, and what was written to the last two. */
function consoleStreams() {
  const streams = { input: new PassThrough(), output: new PassThrough(), errors: new PassThrough(), stdout: '', stderr: '' };
  streams.output.on('data', (d: Buffer) => (streams.stdout += d.toString()));
  streams.errors.on('data', (d: Buffer) => (streams.stderr += d.toString()));
  return streams;
}

/** kiln console with `input` piped in, in-process. */
async function kilnConsole(template: string | undefined, input: string, extra: { machine?: boolean } = {}) {
  const io = consoleStreams();
  io.input.end(input);
  const code = await runConsole({ ...(template ? { template } : {}), 'machine-readable': extra.machine ?? false }, { ...io, interactive: false });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** Runs `fn` on every item, `width` at a time. */
async function eachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe('kiln console against packer console (Packer 1.6.6)', { skip: packerMissing }, () => {
  it(`prints each of ${EXPRESSIONS.length + TEMPLATE_EXPRESSIONS.length} expressions as packer console does`, { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-console-'));
    try {
      writeFileSync(join(dir, 'build.pkr.hcl'), TEMPLATE);
      const differing: string[] = [];
      // Packer runs four at a time; kiln reads the template by its absolute path (no chdir in parallel).
      await eachLimited([...EXPRESSIONS, ...TEMPLATE_EXPRESSIONS], 4, async (expression) => {
        const packer = await runPacker(['console', '.'], dir, { input: `${expression}\n` });
        const kiln = await kilnConsole(dir, `${expression}\n`);
        // Packer hides sensitive values in what it prints; so does kiln.
        if (kiln.stdout !== withoutErrors(packer.stdout) || kiln.code !== (packer.code === 0 ? 0 : 2)) differing.push(`${expression}: kiln ${JSON.stringify(kiln.stdout)}, packer ${JSON.stringify(packer.stdout)}`);
      });
      assert.deepEqual(differing, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('evaluates every piped line and prints the last value, reporting each error', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-console-batch-'));
    try {
      writeFileSync(join(dir, 'build.pkr.hcl'), TEMPLATE);
      const batches = ['var.zone\nlocal.name\nupper("done")\n', 'var.nope\nlocal.name\n', '1 +\n2\nnope\n', 'local.counts\n\n', 'var.zone\nexit\nvar.zone\n'];
      for (const batch of batches) {
        const packer = await runPacker(['console', '.'], dir, { input: batch });
        const kiln = await inDirectory(dir, () => kilnConsole('.', batch));
        assert.equal(kiln.stdout, withoutErrors(packer.stdout), JSON.stringify(batch));
        assert.equal(kiln.code === 0, packer.code === 0, `${JSON.stringify(batch)}: ${kiln.stderr}`);
        assert.equal(kiln.stderr.split('kiln console: ').length - 1, packer.stdout.split('Error: ').length - 1, `${JSON.stringify(batch)}: one error reported per bad line`);
      }
      // -machine-readable: the value as Packer's `ui,message` line.
      const packer = await runPacker(['console', '-machine-readable', '.'], dir, { input: 'local.counts\n' });
      const kiln = await inDirectory(dir, () => kilnConsole('.', 'local.counts\n', { machine: true }));
      assert.equal(kiln.stdout.replace(/^\d+/gm, ''), packer.stdout.replace(/^\d+/gm, ''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders a JSON template\'s Go template strings as Packer\'s JSON mode does', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-console-json-'));
    try {
      writeFileSync(join(dir, 'template.json'), JSON.stringify(JSON_TEMPLATES['two builders']));
      writeFileSync(join(dir, 'motd'), 'hi\n');
      for (const line of ['{{user `zone`}}-{{user `size`}}', 'plain text', '{{ upper `abc` }}', '{{user `zone`}} and {{user `size`}}']) {
        const packer = await runPacker(['console', 'template.json'], dir, { input: `${line}\n`, env: { KILN_TOKEN } });
        const kiln = await inDirectory(dir, () => kilnConsole('template.json', `${line}\n`));
        assert.equal(kiln.stdout, packer.stdout, line);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiln console', () => {
  it('answers each line at an interactive prompt until exit', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-console-tty-'));
    try {
      writeFileSync(join(dir, 'build.pkr.hcl'), TEMPLATE);
      const io = consoleStreams();
      const done = inDirectory(dir, () => runConsole({ template: '.', 'machine-readable': false }, { ...io, interactive: true }));
      for (const line of ['var.zone', 'nope', 'local.name', 'exit', 'var.zone']) io.input.write(`${line}\n`);
      assert.equal(await done, 0);
      const [out, err] = [io.stdout, io.stderr];
      // The terminal shows the prompts, the typed lines and one answer per expression; nothing after exit.
      const shown = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/[\r\n]+/).map((l) => l.replace(/^(> )+/, ''));
      assert.deepEqual(shown.filter((l) => l === 'fr-par-1' || l === 'img-fr-par-1'), ['fr-par-1', 'img-fr-par-1']);
      assert.ok(out.includes('> '), 'a prompt');
      assert.match(err, /There is no variable named "nope"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown flag with exit 2 and a did-you-mean', { timeout: 60_000 }, async () => {
    const result = await runKiln(['console', '-vars', 'a=b']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown flag -vars \(did you mean -var\?\)/);
  });
});
