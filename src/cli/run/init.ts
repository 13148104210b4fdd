// `kiln init [dir|file]`: `packer init`'s place in a CI script. Nothing is downloaded: kiln's
// Scaleway builder is built in (src/template/plugins.ts says what a template may require).
import { formatProblems, TemplateError } from '../../template/errors.js';
import { initTemplate } from '../../template/plugins.js';
import type { TextOutput } from '../../shared/text-output.js';

export interface InitArgs {
  template?: string;
  upgrade: boolean;
  force: boolean;
  'machine-readable': boolean;
}

/** Exit code: 0, or 2 for a plugin kiln does not have or a template it cannot read. */
export async function runInit(args: InitArgs, out: TextOutput): Promise<number> {
  const path = args.template ?? '.';
  try {
    const report = await initTemplate(path);
    for (const warning of report.warnings) out.stderr(`warning: ${warning}\n`);
    for (const line of report.lines) out.stdout(`kiln init: ${line}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    out.stderr(`kiln init: ${path}: ${formatProblems(error.problems)}\n`);
    return 2;
  }
}
