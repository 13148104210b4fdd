// `kiln inspect <template>`: prints what the template defines in `packer inspect`'s layout
// (src/template/inspect.ts), plainly or as Packer's machine-readable lines.
import { formatProblems, TemplateError } from '../../template/errors.js';
import { inspectTemplate } from '../../template/inspect.js';
import { templateInputsFromArgv } from '../../template/options.js';
import { machineLine } from '../render/machine.js';
import type { TextOutput } from '../../shared/text-output.js';

export interface InspectArgs {
  template: string;
  var?: string[];
  'var-file'?: string[];
  'machine-readable': boolean;
}

/** Exit code: 0, or 2 when the template cannot be read. */
export async function runInspect(args: InspectArgs, out: TextOutput): Promise<number> {
  let messages;
  try {
    messages = await inspectTemplate(args.template, templateInputsFromArgv(args));
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const text = `kiln inspect: ${args.template}: ${formatProblems(error.problems)}`;
    if (args['machine-readable']) out.stdout(machineLine('', 'ui', ['error', text]));
    else out.stderr(`${text}\n`);
    return 2;
  }
  for (const message of messages) {
    if (!args['machine-readable']) {
      if ('say' in message) out.stdout(`${message.say}\n`);
    } else out.stdout('say' in message ? machineLine('', 'ui', ['say', message.say]) : machineLine('', message.machine, message.data));
  }
  return 0;
}
