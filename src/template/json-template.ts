// Reading a Packer JSON template file: every command that takes one (validate, build, inspect,
// console, hcl2_upgrade) reads it here. A JSON object; the seed's bare builder object read as a
// one-builder template; every failure a TemplateError that says what is wrong.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { TemplateError } from './errors.js';
import { describeType, isObject, type JsonObject } from './fields.js';
import { jsonErrorSummary } from './variables.js';

export interface JsonTemplateFile {
  /** The template; a bare builder object comes as `{ builders: [it] }`. */
  template: JsonObject;
  /** The file was a builder object on its own (the seed's Basic Example). */
  bare: boolean;
  /** sha256 (hex) of the template's meaning: its JSON with keys sorted and no layout (`meaningHash`). */
  templateHash: string;
}

export async function readJsonTemplateFile(path: string): Promise<JsonTemplateFile> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TemplateError([
      code === 'ENOENT'
        ? { path, message: 'the template file does not exist', hint: 'check the path; examples/basic.json is a template to start from' }
        : { path, message: `cannot read the template: ${code ?? (error as Error).message}` },
    ]);
  }
  const text = content.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TemplateError([{ path, message: `is not valid JSON: ${jsonErrorSummary(error, text)}`, hint: notJsonHint(path, text) }]);
  }
  if (!isObject(parsed)) throw new TemplateError([{ path, message: `a template is a JSON object, not ${describeType(parsed)}` }]);
  const bare = parsed.builders === undefined && parsed.type !== undefined;
  return { template: bare ? { builders: [parsed] } : parsed, bare, templateHash: meaningHash(parsed) };
}

/**
 * The hash of what a JSON template says, not of how it is laid out: spaces, line breaks and the
 * order of an object's keys change nothing (the order of an array's items does). `kiln resume`
 * compares it, so a template reformatted, or checked out elsewhere with other line endings, is
 * still the template the build started with.
 */
export function meaningHash(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((key) => [key, canonical(v[key])]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

/** The template only, for the commands that look at it without building (inspect, console, hcl2_upgrade). */
export async function readJsonTemplate(path: string): Promise<JsonObject> {
  return (await readJsonTemplateFile(path)).template;
}

/** HCL2's top-level blocks, as a template file starts with them. */
const HCL_BLOCK = /^\s*(source|build|variable|variables|locals|local|packer|data)\s*("[^"]*"\s*)*\{/m;

/**
 * What to do about a file that is not JSON: an HCL2 template is read only from a `.pkr.hcl` file
 * (or a directory of them), as Packer reads it, so a `web.hcl` or an HCL2 file named `.json` is
 * told its name; anything else is pointed at a JSON template to start from.
 */
function notJsonHint(path: string, text: string): string {
  if (/\.hcl$/i.test(path) || HCL_BLOCK.test(text)) {
    const name = basename(path).replace(/(\.pkr)?\.(hcl|json)$/i, '');
    return `this looks like an HCL2 template: kiln (like Packer) reads HCL2 from files named *.pkr.hcl, or from a directory of them; rename it ${name}.pkr.hcl`;
  }
  return 'a JSON template is one JSON object with "builders" (examples/basic.json is one to start from); HCL2 templates are read from *.pkr.hcl files';
}
