// `kiln hcl2_upgrade <template.json>`: writes the HCL2 equivalent (src/template/upgrade.ts) to
// -output-file, by default `<template>.pkr.hcl` as Packer names it.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatProblems, TemplateError } from '../../template/errors.js';
import { upgradeTemplate } from '../../template/upgrade.js';
import type { TextOutput } from '../../shared/text-output.js';

export interface UpgradeArgs {
  template: string;
  'output-file'?: string;
  'machine-readable': boolean;
}

/** Exit code: 0 written, 2 the template cannot be converted, 1 the file cannot be written. */
export async function runUpgrade(args: UpgradeArgs, out: TextOutput): Promise<number> {
  const target = args['output-file'] ?? `${args.template}.pkr.hcl`;
  let upgraded;
  try {
    upgraded = await upgradeTemplate(args.template);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    out.stderr(`kiln hcl2_upgrade: ${args.template}: ${formatProblems(error.problems)}\nNothing was written.\n`);
    return 2;
  }
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, upgraded.hcl);
  } catch (error) {
    out.stderr(`kiln hcl2_upgrade: cannot write ${target}: ${(error as Error).message}\n`);
    return 1;
  }
  for (const warning of upgraded.warnings) out.stderr(`warning: ${warning}\n`);
  out.stdout(`Successfully created ${target}; kiln validate ${target} checks it\n`);
  return 0;
}
