// The template inputs every command that loads a template shares (`kiln validate`, `kiln build`,
// `kiln resume`): `--var name=value` (repeatable) and `--var-file file.json` (repeatable).
// Cheap on purpose: command modules import this while declaring their options.
import { resolve } from 'node:path';
import { TemplateError, type TemplateProblem } from './errors.js';
import { splitPatterns, type NameSelection } from './select.js';

/** What the template argument of `kiln build` and `kiln validate` may be. */
export const TEMPLATE_ARGUMENT = 'Packer JSON template (or a bare scaleway builder object), HCL2 template (.pkr.hcl, .pkr.json) or a directory of HCL2 files';

/** yargs option declarations: `.options(templateInputOptions)` in a command's builder. */
export const templateInputOptions = {
  var: {
    type: 'string',
    array: true,
    // One value per flag, so `--var a=b template.json` does not swallow the template path.
    nargs: 1,
    requiresArg: true,
    describe: 'Set a template variable: --var name=value (repeatable; later ones win)',
  },
  'var-file': {
    type: 'string',
    array: true,
    nargs: 1,
    requiresArg: true,
    describe: 'Read template variables from a file (repeatable): JSON {"name": "value"}, or name = value in a .pkrvars.hcl file for HCL2 templates',
  },
} as const;

/** `-only` / `-except` (Packer's spellings; see select.ts): which builds and post-processors run. */
export const buildSelectionOptions = {
  only: {
    type: 'string',
    array: true,
    nargs: 1,
    requiresArg: true,
    describe: 'Run only the builds with these names: -only=a,b (globs: -only=\'web-*\')',
  },
  except: {
    type: 'string',
    array: true,
    nargs: 1,
    requiresArg: true,
    describe: 'Run every build and post-processor but these: -except=a,b (globs too)',
  },
} as const;

/** `["a=1", "b=x=y"]` → `{a: "1", b: "x=y"}`. Throws TemplateError naming every malformed argument. */
export function parseVarArgs(vars: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  const problems: TemplateProblem[] = [];
  for (const [index, arg] of vars.entries()) {
    const equals = arg.indexOf('=');
    const name = equals < 0 ? arg : arg.slice(0, equals).trim();
    if (equals < 0 || name === '') {
      problems.push({
        path: '--var',
        // The argument may be a secret pasted without its name: quote it only when it looks like a name.
        message:
          equals >= 0
            ? `argument ${index + 1} has an empty variable name`
            : /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(arg)
              ? `"${arg}" has no value`
              : `argument ${index + 1} is not of the form name=value`,
        hint: 'write --var name=value',
      });
      continue;
    }
    values[name] = arg.slice(equals + 1);
  }
  if (problems.length) throw new TemplateError(problems);
  return values;
}

/** What a command passes on to `loadTemplate` from its parsed argv. */
export interface TemplateInputs {
  vars: Record<string, string>;
  /** Absolute paths, in command-line order. */
  varFiles: string[];
}

/** Reads `--var`/`--var-file` from yargs' argv (throws TemplateError on a malformed --var). */
export function templateInputsFromArgv(argv: { var?: readonly string[] | undefined; 'var-file'?: readonly string[] | undefined }): TemplateInputs {
  return {
    vars: parseVarArgs(argv.var ?? []),
    varFiles: (argv['var-file'] ?? []).map((file) => resolve(file)),
  };
}

/** Reads `-only`/`-except` from yargs' argv (comma-separated lists, repeatable). */
export function selectionFromArgv(argv: { only?: readonly string[] | undefined; except?: readonly string[] | undefined }): NameSelection {
  return { only: splitPatterns(argv.only), except: splitPatterns(argv.except) };
}
