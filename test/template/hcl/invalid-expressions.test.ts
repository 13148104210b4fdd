// Invalid HCL2 expressions against Packer 1.6.6 (issue 25): wrong argument types, indices and
// ranges out of bounds, unparsable numbers and data, bad regular expressions, unknown functions,
// wrong arity. Kiln refuses each, and its message names the function and the argument at fault;
// Packer's `packer console` refuses each too. One Packer process reads the whole batch: an unknown
// function `kiln_marker_<i>()` between the expressions marks where each one's errors begin (in a
// pipe, packer console prints every error but only the last line's value).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExpression, HclSyntaxError } from '../../../src/template/hcl/parser.js';
import { evaluate, HclEvalError } from '../../../src/template/hcl/eval.js';
import { hclFunctions } from '../../../src/template/hcl/functions.js';
import { INVALID_EXPRESSIONS } from './invalid-expressions.js';
import { packerMissing, runPacker } from '../../helpers/packer.js';

/** kiln's verdict on one expression: its value, or the error's summary and detail. */
function kiln(expression: string): { refused: false; value: unknown } | { refused: true; message: string } {
  const functions = hclFunctions({ initTime: new Date('2026-11-30T12:02:03Z'), uuid: 'seed', cwd: '/' });
  try {
    return { refused: false, value: evaluate(parseExpression(expression, 'console.pkr.hcl'), { variables: new Map(), functions }) };
  } catch (error) {
    if (error instanceof HclEvalError || error instanceof HclSyntaxError) return { refused: true, message: `${error.diagnostic.summary}: ${error.diagnostic.detail}` };
    throw error;
  }
}

/** The error blocks `packer console` printed for each expression of the batch, in order. */
function packerErrors(output: string, count: number): string[][] {
  const per: string[][] = Array.from({ length: count }, () => []);
  const seen = new Set<number>();
  let current = -1;
  for (const block of output.split(/\n(?=Error: )/)) {
    const text = block.replace(/\s+/g, ' ').trim();
    const marker = /There is no function named "kiln_marker_(\d+)"/.exec(text);
    if (marker) {
      current = Number(marker[1]);
      seen.add(current);
    } else if (current >= 0 && current < count && text.startsWith('Error: ')) per[current]!.push(text);
  }
  assert.equal(seen.size, count + 1, `every marker answered: ${output.slice(0, 3000)}`);
  return per;
}

describe('invalid HCL2 expressions', () => {
  it(`has at least 40 (${INVALID_EXPRESSIONS.length})`, () => {
    assert.ok(INVALID_EXPRESSIONS.length >= 40);
  });

  it('kiln refuses each, naming the function and the argument', () => {
    for (const { expression, fn, arg } of INVALID_EXPRESSIONS) {
      const verdict = kiln(expression);
      assert.ok(verdict.refused, `${expression}: kiln accepted it (${JSON.stringify(verdict)})`);
      assert.ok(verdict.message.includes(`"${fn}"`), `${expression}: the message does not name the function "${fn}": ${verdict.message}`);
      if (arg) assert.ok(verdict.message.includes(`"${arg}"`), `${expression}: the message does not name the argument "${arg}": ${verdict.message}`);
    }
  });

  it('packer console refuses each as well: the same verdict', { skip: packerMissing, timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-invalid-'));
    try {
      writeFileSync(join(dir, 'empty.pkr.hcl'), 'variable "unused" {\n  default = 1\n}\n');
      const input = `${INVALID_EXPRESSIONS.map(({ expression }, i) => `kiln_marker_${i}()\n${expression}\n`).join('')}kiln_marker_${INVALID_EXPRESSIONS.length}()\n`;
      const result = await runPacker(['console', 'empty.pkr.hcl'], dir, { input });
      assert.equal(result.code, 1, result.output);
      const errors = packerErrors(result.output, INVALID_EXPRESSIONS.length);
      INVALID_EXPRESSIONS.forEach(({ expression }, i) => {
        assert.ok(errors[i]!.length > 0, `${expression}: packer console accepted it, kiln refuses it: ${kiln(expression).refused ? 'refused' : 'accepted'}`);
        assert.ok(kiln(expression).refused, `${expression}: packer refuses it (${errors[i]![0]}), kiln accepts it`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
