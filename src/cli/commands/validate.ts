import type { CommandModule } from 'yargs';
import { buildSelectionOptions, TEMPLATE_ARGUMENT, templateInputOptions } from '../../template/options.js';

export interface ValidateArgs {
  template: string;
  var?: string[];
  'var-file'?: string[];
  only?: string[];
  except?: string[];
  'syntax-only'?: boolean;
  json?: boolean;
  print?: boolean;
}

// `kiln validate <template>`: offline checks; says the template is valid (with --print, each
// build's evaluated configuration, secrets redacted) and exits 0, or lists every problem and exits 2.
export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <template>',
  describe: 'Check a template offline and print the effective configuration of each build',
  builder: (yargs) =>
    yargs
      .positional('template', { type: 'string', demandOption: true, describe: TEMPLATE_ARGUMENT })
      .options(templateInputOptions)
      .options(buildSelectionOptions)
      .option('syntax-only', { type: 'boolean', default: false, describe: 'Only check that the file is a template (JSON, builders with a type), as Packer does' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {"valid": …} as JSON on stdout' })
      .option('print', { type: 'boolean', default: false, describe: 'Print the evaluated configuration of each build (secrets redacted)' }),
  handler: async (argv) => {
    const { runValidate } = await import('../../template/validate.js');
    process.exitCode = await runValidate(argv);
  },
};
