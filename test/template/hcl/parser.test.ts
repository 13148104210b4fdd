// The HCL parser: blocks and attributes in file order with their positions, and syntax errors
// with hclsyntax's summary at the line and column Packer reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFile, HclSyntaxError } from '../../../src/template/hcl/parser.js';
import type { Block } from '../../../src/template/hcl/ast.js';

const TEMPLATE = `# a comment
source "scaleway" "base" {
  image = "ubuntu_jammy" // trailing comment
}

build {
  sources = ["source.scaleway.base"]
  provisioner "shell" { inline = ["one"] }
  provisioner "file" {
    source      = "motd"
    destination = "/etc/motd"
  }
  /* block
     comment */
  provisioner "shell" {
    inline = [
      "three",
    ]
  }
}
`;

function syntaxError(source: string): { summary: string; line: number; column: number } {
  try {
    parseFile(source, 'bad.pkr.hcl');
  } catch (error) {
    assert.ok(error instanceof HclSyntaxError);
    return { summary: error.diagnostic.summary, line: error.diagnostic.range.start.line, column: error.diagnostic.range.start.column };
  }
  assert.fail(`no syntax error in ${JSON.stringify(source)}`);
}

describe('HCL parser', () => {
  it('keeps blocks in file order (shell, file, shell) with labels and positions', () => {
    const { body } = parseFile(TEMPLATE, 'build.pkr.hcl');
    const [source, build] = body.items as Block[];
    assert.equal(source!.type, 'source');
    assert.deepEqual(source!.labels, ['scaleway', 'base']);
    assert.deepEqual(source!.range.start, { line: 2, column: 1, offset: 12 });
    const provisioners = build!.body.items.filter((item): item is Block => item.kind === 'block');
    assert.deepEqual(provisioners.map((p) => p.labels[0]), ['shell', 'file', 'shell']);
    assert.deepEqual(provisioners.map((p) => p.range.start.line), [8, 9, 15]);
    const image = source!.body.items[0]!;
    assert.equal(image.kind === 'attribute' && image.expr.range.start.column, 11);
  });

  it('rejects what Packer rejects, at the same line', () => {
    assert.deepEqual(syntaxError('b { x = "a" y = "b" }\n'), { summary: 'Invalid single-argument block definition', line: 1, column: 13 });
    assert.deepEqual(syntaxError('a = 1 +\n2\n').summary, 'Invalid expression');
    assert.deepEqual(syntaxError('a = [1 2]\n'), { summary: 'Missing item separator', line: 1, column: 8 });
    assert.deepEqual(syntaxError('a = "unterminated\n'), { summary: 'Invalid multi-line string', line: 1, column: 18 });
    assert.deepEqual(syntaxError('x {\n  a = 1\n'), { summary: 'Unclosed configuration block', line: 3, column: 1 });
    assert.deepEqual(syntaxError('a = "%{ if true }x"\n').summary, 'Unexpected end of template');
    assert.deepEqual(syntaxError('a = "\\q"\n'), { summary: 'Invalid escape sequence', line: 1, column: 6 });
    assert.deepEqual(syntaxError('"a" = 1\n').summary, 'Argument or block definition required');
  });

  it('reads multi-line tuples, calls and objects, where newlines separate object items', () => {
    const { body } = parseFile('a = {\n  x = [1,\n    2]\n  y = max(1,\n    2)\n}\n', 't.pkr.hcl');
    const attr = body.items[0]!;
    assert.ok(attr.kind === 'attribute' && attr.expr.kind === 'object');
    assert.equal(attr.expr.items.length, 2);
  });
});
