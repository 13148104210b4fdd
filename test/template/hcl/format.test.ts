// kiln fmt's layout is byte-identical to `packer fmt` (Packer 1.6.6) on a corpus of hand-written
// files (test/fixtures/fmt: messy and formatted, comments, heredocs, nested blocks, long lists,
// CRLF, tabs, unicode) and of the HCL2 oracle corpus's templates, each as written and with its
// whitespace scrambled. One `packer fmt` call formats the whole corpus in a directory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatHcl } from '../../../src/template/hcl/format.js';
import { scan } from '../../../src/template/hcl/lexer.js';
import { parseFile } from '../../../src/template/hcl/parser.js';
import { CORPUS } from './corpus.js';
import { packerMissing, runPacker } from '../../helpers/packer.js';

const FIXTURES = 'test/fixtures/fmt';

/** A small seeded generator, so that a scrambled file is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The same tokens, with the whitespace between them (outside strings and heredocs) replaced by 1–3 random spaces or tabs, indentation scrambled, trailing blanks added. */
function scramble(source: string, seed: number): string {
  const next = random(seed);
  const blanks = (min: number): string => Array.from({ length: min + Math.floor(next() * 3) }, () => (next() < 0.3 ? '\t' : ' ')).join('');
  const { tokens } = scan(source, 'x', { comments: true });
  let out = '';
  let last = 0;
  for (const token of tokens) {
    const start = token.range.start.offset;
    const gap = source.slice(last, start);
    const atLineStart = last === 0 || source[last - 1] === '\n';
    if (/^[ \t]+$/.test(gap) && token.kind !== 'cheredoc') out += atLineStart ? blanks(0) : token.kind === 'newline' ? blanks(0) : blanks(1);
    else if (gap === '' && atLineStart && token.kind !== 'cheredoc' && token.kind !== 'literal' && token.kind !== 'newline' && token.kind !== 'eof') out += blanks(0);
    else out += gap;
    out += source.slice(start, token.range.end.offset);
    last = token.range.end.offset;
  }
  return out + source.slice(last);
}

interface Sample {
  name: string;
  text: string;
}

function corpus(): Sample[] {
  const samples: Sample[] = readdirSync(FIXTURES)
    .sort()
    .map((name) => ({ name, text: readFileSync(join(FIXTURES, name), 'utf8') }));
  let seed = 1;
  for (const c of CORPUS) {
    for (const [file, text] of Object.entries(c.files)) {
      if (!/\.(pkr|pkrvars)\.hcl$/.test(file)) continue;
      try {
        parseFile(text, file); // the oracle corpus also holds templates that do not parse
      } catch {
        continue;
      }
      const stem = `${c.name.replace(/[^a-z0-9]+/gi, '-')}-${file.replace(/\.(pkr|pkrvars)\.hcl$/, '')}`;
      const ext = file.endsWith('.pkrvars.hcl') ? 'pkrvars.hcl' : 'pkr.hcl';
      samples.push({ name: `corpus-${stem}.${ext}`, text });
      samples.push({ name: `scrambled-${stem}.${ext}`, text: scramble(text, seed++) });
    }
  }
  return samples;
}

describe('kiln fmt against packer fmt (Packer 1.6.6)', { skip: packerMissing }, () => {
  it('writes every file of the corpus byte for byte as packer fmt does', { timeout: 120_000 }, async () => {
    const samples = corpus();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-fmt-oracle-'));
    try {
      for (const sample of samples) writeFileSync(join(dir, sample.name), sample.text);
      const packer = await runPacker(['fmt', dir], dir);
      assert.equal(packer.code, 0, packer.output);
      const differing = samples.filter((sample) => formatHcl(sample.text) !== readFileSync(join(dir, sample.name), 'utf8'));
      assert.deepEqual(differing.map((s) => s.name), [], `kiln and packer fmt differ on ${differing.length} of ${samples.length} files`);
      const changed = samples.filter((s) => formatHcl(s.text) !== s.text).length;
      process.stderr.write(`fmt corpus: ${samples.length} files, ${changed} changed by formatting\n`);
      // Enough files, and enough of them messy, for the comparison to mean something.
      assert.ok(samples.length >= 40 && changed >= 40, `${samples.length} files, ${changed} of them changed by formatting`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiln fmt layout', () => {
  it('changes only whitespace, and formatting twice changes nothing more', () => {
    for (const sample of corpus()) {
      const once = formatHcl(sample.text);
      assert.equal(formatHcl(once), once, sample.name);
      const words = (text: string) => text.replace(/[ \t]+/g, '');
      assert.equal(words(once), words(sample.text), `${sample.name}: something other than spaces changed`);
    }
  });

  it('keeps comments and blank-line groups', () => {
    const source = 'locals {\n  # first group\n  a = 1 # one\n\n\n  // second group\n  bb = 2 /* two */\n}\n';
    const formatted = formatHcl(source);
    for (const comment of ['# first group', '# one', '// second group', '/* two */']) assert.ok(formatted.includes(comment), comment);
    assert.match(formatted, /a = 1 # one\n\n\n  \/\/ second group/);
  });
});
