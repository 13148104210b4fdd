// HCL expressions evaluate as Packer evaluates them: every expression of EXPRESSIONS is compared
// with `packer console` (one call for the batch, through jsonencode), and a few cases Packer's
// one-line console cannot take (heredocs) or that kiln adds are checked against fixed values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExpression } from '../../../src/template/hcl/parser.js';
import { evaluate, HclEvalError, type Scope } from '../../../src/template/hcl/eval.js';
import { hclFunctions } from '../../../src/template/hcl/functions.js';
import type { Value } from '../../../src/template/hcl/value.js';
import { EXPRESSIONS } from './expressions.js';
import { packerMissing, runPacker } from '../../helpers/packer.js';

function scope(variables: Record<string, Value> = {}): Scope {
  return { variables: new Map(Object.entries(variables)), functions: hclFunctions({ initTime: new Date('2026-11-30T12:02:03.456Z'), uuid: 'seed', cwd: '/' }) };
}

function kiln(source: string, variables: Record<string, Value> = {}): Value {
  return evaluate(parseExpression(source, 'test.pkr.hcl'), scope(variables));
}

describe('HCL expressions', () => {
  it('equal packer console for the whole batch', { skip: packerMissing, timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-console-'));
    try {
      writeFileSync(join(dir, 'empty.pkr.hcl'), 'variable "unused" {\n  default = 1\n}\n');
      const result = await runPacker(['console', join(dir, 'empty.pkr.hcl')], dir, { input: `jsonencode([${EXPRESSIONS.join(', ')}])\n` });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const theirs = JSON.parse(result.stdout.trim()) as unknown[];
      assert.equal(theirs.length, EXPRESSIONS.length);
      EXPRESSIONS.forEach((expression, i) => assert.deepEqual(kiln(expression), theirs[i], `${expression}: kiln and packer console differ`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('read heredocs, with <<- removing the common indentation', () => {
    assert.equal(kiln('<<EOT\nhello\n  world\nEOT\n'), 'hello\n  world\n');
    assert.equal(kiln('<<-EOT\n    indented\n      more\n    EOT\n'), 'indented\n  more\n');
    assert.equal(kiln('<<EOT\n${upper("x")} and %{ if true }yes%{ endif }\nEOT\n'), 'X and yes\n');
  });

  it('keep Go template actions such as {{timestamp}} as text for the builder to expand', () => {
    assert.equal(kiln('"img-${var.flavor}-{{timestamp}}"', { var: { flavor: 'k8s' } }), 'img-k8s-{{timestamp}}');
  });

  it('pin timestamp() to the load instant and derive uuidv4() from the load UUID, call by call', () => {
    assert.equal(kiln('timestamp()'), '2026-11-30T12:02:03Z');
    const first = kiln('[uuidv4(), uuidv4()]') as string[];
    const again = kiln('[uuidv4(), uuidv4()]') as string[];
    assert.deepEqual(first, again);
    assert.notEqual(first[0], first[1]);
    for (const id of first) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('report errors at the offending sub-expression with Packer\'s summary and a did-you-mean', () => {
    const cases: Array<[string, string, number, string | undefined]> = [
      ['upperr("x")', 'Call to unknown function', 1, 'did you mean "upper"?'],
      ['var.regoin', 'Unsupported attribute', 5, 'did you mean "region"?'],
      ['"a-${nope}"', 'Unknown variable', 6, undefined],
      ['[1, 2][5]', 'Invalid index', 7, undefined],
      ['1 + "x"', 'Invalid operand', 5, undefined],
    ];
    for (const [source, summary, column, hint] of cases) {
      assert.throws(() => kiln(source, { var: { region: 'fr-par-1' } }), (error: unknown) => {
        assert.ok(error instanceof HclEvalError, source);
        assert.equal(error.diagnostic.summary, summary, source);
        assert.equal(error.diagnostic.range.start.column, column, source);
        assert.equal(error.diagnostic.hint, hint, source);
        return true;
      });
    }
  });

  it('convert values as Packer does: "true" is a bool for !, numbers in strings are numbers', () => {
    assert.equal(kiln('!"true"'), false);
    assert.equal(kiln('"2" * 3'), 6);
    assert.equal(kiln('"${1 + 1}"'), 2);
    assert.equal(kiln('"n=${1 + 1}"'), 'n=2');
  });
});
