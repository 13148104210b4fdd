// Reading a Packer JSON template file: every command that takes one (validate, build, inspect,
// console, hcl2_upgrade) reads it here. A JSON object; the seed's bare builder object read as a
// one-builder template; every failure a TemplateError that says what is wrong.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { TemplateError } from './errors.js';
import { describeType, isObject, type JsonObject } from './fields.js';
import { jsonErrorSummary } from './variables.js';

export interface JsonTemplateFile {
  /** The template; a bare builder object comes as `{ builders: [it] }`. */
  template: JsonObject;
  /** The file was a builder object on its own (the seed's Basic Example). */
  bare: boolean;
  /** sha256 (hex) of the file's bytes. */
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
    throw new TemplateError([{ path, message: `is not valid JSON: ${jsonErrorSummary(error, text)}`, hint: 'a JSON template is one JSON object; an HCL2 template is named *.pkr.hcl' }]);
  }
  if (!isObject(parsed)) throw new TemplateError([{ path, message: `a template is a JSON object, not ${describeType(parsed)}` }]);
  const bare = parsed.builders === undefined && parsed.type !== undefined;
  return { template: bare ? { builders: [parsed] } : parsed, bare, templateHash: createHash('sha256').update(content).digest('hex') };
}

/** The template only, for the commands that look at it without building (inspect, console, hcl2_upgrade). */
export async function readJsonTemplate(path: string): Promise<JsonObject> {
  return (await readJsonTemplateFile(path)).template;
}
