// Reading a Packer JSON template file as the commands that only look at it (inspect, console,
// hcl2_upgrade) need it: a JSON object, the seed's bare builder object read as a one-builder
// template, every failure a TemplateError that says what is wrong.
import { readFile } from 'node:fs/promises';
import { TemplateError } from './errors.js';
import { describeType, isObject, type JsonObject } from './fields.js';
import { jsonErrorSummary } from './variables.js';

export async function readJsonTemplate(path: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TemplateError([{ path, message: code === 'ENOENT' ? 'the template file does not exist' : `cannot read the template: ${code ?? (error as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TemplateError([{ path, message: `is not valid JSON: ${jsonErrorSummary(error, text)}` }]);
  }
  if (!isObject(parsed)) throw new TemplateError([{ path, message: `a template is a JSON object, not ${describeType(parsed)}` }]);
  return parsed.builders === undefined && parsed.type !== undefined ? { builders: [parsed] } : parsed;
}
