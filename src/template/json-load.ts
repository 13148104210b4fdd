// JSON templates: a Packer JSON template, or a bare builder object as in the seed's Basic Example.
// Reads the file and its top-level keys; `buildSpecsFromTemplate` does the rest.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildSpecsFromTemplate, newEvaluation, type LoadedTemplate, type LoadTemplateOptions } from './build-specs.js';
import { Problems, TemplateError } from './errors.js';
import { isObject, describeType, type JsonObject } from './fields.js';
import { jsonErrorSummary } from './variables.js';
import { didYouMean } from './suggest.js';

const TEMPLATE_KEYS = ['variables', 'sensitive-variables', 'builders', 'provisioners', 'error-cleanup-provisioner', 'post-processors', 'description', 'min_packer_version'];

/** A Packer JSON template (or a bare builder object, as in the seed's Basic Example) → BuildSpecs. */
export async function loadJsonTemplate(path: string, options: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  const templatePath = resolve(path);
  const templateDir = dirname(templatePath);
  const problems = new Problems();
  const warnings: string[] = [];
  const evaluation = newEvaluation(options);

  let content: Buffer;
  try {
    content = await readFile(templatePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TemplateError([
      code === 'ENOENT'
        ? { path, message: 'the template file does not exist', hint: 'check the path; examples/basic.json is a template to start from' }
        : { path, message: `cannot read the template: ${code ?? (error as Error).message}` },
    ]);
  }
  const templateHash = createHash('sha256').update(content).digest('hex');
  const text = content.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TemplateError([{ path, message: `is not valid JSON: ${jsonErrorSummary(error, text)}`, hint: 'kiln reads Packer JSON templates (HCL2 templates are not supported)' }]);
  }
  if (!isObject(parsed)) throw new TemplateError([{ path, message: `a template is a JSON object, not ${describeType(parsed)}` }]);

  // The seed's Basic Example is a builder object on its own: read it as a one-builder template.
  const bare = parsed.builders === undefined && parsed.type !== undefined;
  const template: JsonObject = bare ? { builders: [parsed] } : parsed;
  if (!bare) {
    for (const key of Object.keys(template)) {
      if (TEMPLATE_KEYS.includes(key) || key.startsWith('_')) continue;
      problems.add(key, `unknown top-level key "${key}"`, didYouMean(key, TEMPLATE_KEYS) ?? `a template has ${TEMPLATE_KEYS.join(', ')}`);
    }
  }

  return buildSpecsFromTemplate({ template, bare, templateDir, templateHash, problems, warnings }, options, evaluation);
}
