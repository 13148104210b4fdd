import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { shellQuote } from '../src/ssh/index.js';
import { cliArgv, runKiln } from './helpers/cli.js';

test('kiln --help lists the commands', { timeout: 60_000 }, async () => {
  const result = await runKiln(['--help']);
  assert.equal(result.code, 0, result.stderr);
  for (const command of ['build', 'resume', 'gc', 'ls', 'show', 'validate', 'sim']) {
    assert.match(result.stdout, new RegExp(`kiln ${command}`), `--help should list ${command}`);
  }
});

test('an unknown command exits 2 and points at --help', { timeout: 60_000 }, async () => {
  const result = await runKiln(['frobnicate']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /kiln --help/);
});

// util-linux `script` gives kiln a pseudo-terminal of a chosen width, as a user's terminal does.
const noScript = existsSync('/usr/bin/script') ? false : '/usr/bin/script (util-linux) is not installed: no terminal to size';

/** `kiln <args> --help` on a terminal `columns` wide; its lines. */
function helpAt(columns: number, args: string[]): Promise<string[]> {
  const command = `stty cols ${columns}; exec ${[process.execPath, ...cliArgv([...args, '--help'])].map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    execFile('script', ['-qefc', command, '/dev/null'], { encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.replace(/\r/g, '').trimEnd().split('\n'));
    });
  });
}

// The words of a help text, sorted: in a two-column row, wrapping interleaves the columns' words
// differently at each width. cliui (yargs' layout) sometimes sets a type like [boolean] right
// against the description's last word ("stdout[boolean]"): that is spacing, not a cut word.
const words = (lines: string[]) =>
  lines.join(' ').replace(/(?=\[(boolean|string|number|array|count|default:|required|choices:))/g, ' ').split(/\s+/).filter(Boolean).sort();

/** Words in one list and not the other (each as often as it is missing). */
function difference(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((word) => {
    const at = left.indexOf(word);
    if (at >= 0) left.splice(at, 1);
    return at < 0;
  });
}

test('help text wraps at word boundaries, on a narrow terminal and a wide one', { timeout: 120_000, skip: noScript }, async () => {
  for (const args of [[], ...['build', 'resume', 'gc', 'ls', 'show', 'validate', 'sim'].map((command) => [command])]) {
    const [narrow, wide] = await Promise.all([helpAt(80, args), helpAt(200, args)]);
    const name = `kiln ${[...args, '--help'].join(' ')}`;
    // Wrapping may only move line breaks: a word cut in two ("unfinish" + "ed") changes the words.
    const [atNarrow, atWide] = [words(narrow), words(wide)];
    assert.deepEqual(
      [difference(atNarrow, atWide), difference(atWide, atNarrow)],
      [[], []],
      `${name}: [only at 80 columns, only at 200], from:\n${narrow.join('\n')}`,
    );
    for (const line of narrow) assert.ok(line.length <= 80, `${name}: a line longer than 80 columns:\n${line}`);
  }
});
