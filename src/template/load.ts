// loadTemplate: a template file (or directory) → validated BuildSpecs, or a TemplateError listing
// every problem. This module only tells the two formats apart: JSON templates (json-load.ts) and
// HCL2 (hcl-load.ts); both lower to the same BuildSpecs (build-specs.ts).
import { stat } from 'node:fs/promises';
import type { LoadedTemplate, LoadTemplateOptions } from './build-specs.js';
import { loadJsonTemplate } from './json-load.js';

/** HCL2 (Packer's naming): a directory, or a `.pkr.hcl` / `.pkr.json` file. Anything else is a JSON template. */
export async function isHclTemplate(path: string): Promise<boolean> {
  if (/\.pkr\.(hcl|json)$/.test(path)) return true;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function loadTemplate(path: string, options: LoadTemplateOptions = {}): Promise<LoadedTemplate> {
  if (!(await isHclTemplate(path))) return loadJsonTemplate(path, options);
  // Loaded on demand: a JSON template does not pay for the HCL2 parser and evaluator.
  const { loadHclTemplate } = await import('./hcl-load.js');
  return loadHclTemplate(path, options);
}
