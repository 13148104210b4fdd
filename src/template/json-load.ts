// JSON templates: a Packer JSON template, or a bare builder object as in the seed's Basic Example.
// Checks the file's top-level keys (json-template.ts reads it); `buildSpecsFromTemplate` does the rest.
import { dirname, resolve } from 'node:path';
import { buildSpecsFromTemplate, newEvaluation, type LoadedTemplate, type LoadTemplateOptions } from './build-specs.js';
import { Problems } from './errors.js';
import { readJsonTemplateFile } from './json-template.js';
import { didYouMean } from './suggest.js';

const TEMPLATE_KEYS = ['variables', 'sensitive-variables', 'builders', 'provisioners', 'post-processors', 'description', 'min_packer_version'];
const UNSUPPORTED_TEMPLATE_KEYS: Record<string, string> = {
  'error-cleanup-provisioner': 'kiln always cleans up what it created',
};

/** A Packer JSON template (or a bare builder object, as in the seed's Basic Example) → BuildSpecs. */
export async function loadJsonTemplate(path: string, options: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  const templatePath = resolve(path);
  const templateDir = dirname(templatePath);
  const problems = new Problems();
  const warnings: string[] = [];
  const evaluation = newEvaluation(options);

  const { template, bare, templateHash } = await readJsonTemplateFile(path);
  if (!bare) {
    for (const key of Object.keys(template)) {
      if (TEMPLATE_KEYS.includes(key) || key.startsWith('_')) continue;
      const reason = UNSUPPORTED_TEMPLATE_KEYS[key];
      if (reason) problems.add(key, `"${key}" is not supported by kiln`, reason);
      else problems.add(key, `unknown top-level key "${key}"`, didYouMean(key, TEMPLATE_KEYS) ?? `a template has ${TEMPLATE_KEYS.join(', ')}`);
    }
  }

  return buildSpecsFromTemplate({ template, bare, templateDir, templateHash, problems, warnings }, options, evaluation);
}
