// Options several commands share, in Packer's spellings where Packer has them (the single-dash
// forms `-machine-readable`, `-on-error=abort` are read by src/cli/argv.ts).
import { UsageError } from '../usage-error.js';

/** --on-error's values: Packer's four (run-cleanup-provisioner: the error-cleanup-provisioner runs, everything else is kept, as abort). */
export const ON_ERROR_CHOICES = ['cleanup', 'abort', 'ask', 'run-cleanup-provisioner'] as const;
export type OnErrorFlag = (typeof ON_ERROR_CHOICES)[number];

/** --db of every command that reads or writes builds: either store. */
export const dbOption = {
  type: 'string',
  describe: 'Event store: a SQLite file, or a postgres:// URL (default $KILN_DB, else $XDG_STATE_HOME/kiln/kiln.db)',
} as const;

/** The output flags of `kiln build`, `kiln resume` and `kiln gc`. */
export const outputOptions = {
  'machine-readable': {
    type: 'boolean',
    default: false,
    describe: "Packer's machine-readable lines on stdout (timestamp,target,type,data…), as scripts written for `packer build` parse them",
  },
  color: { type: 'boolean', default: true, describe: 'Colours and the live progress block on a terminal; -color=false for plain lines' },
  'timestamp-ui': { type: 'boolean', default: false, describe: 'Prefix each output line with an RFC 3339 timestamp, as Packer does' },
} as const;

/** Packer's global -machine-readable, on the commands that print text rather than build progress (fmt, inspect, console, version, …). */
export const machineReadableOption = {
  'machine-readable': { type: 'boolean', default: false, describe: "Packer's machine-readable lines on stdout (timestamp,target,type,data…)" },
} as const;

/** The output flags as parsed by yargs. */
export interface OutputArgs {
  'machine-readable': boolean;
  color: boolean;
  'timestamp-ui': boolean;
}

/** A yargs .check(): --json and -machine-readable are two different outputs; ask for one. */
export function checkOutputFlags(argv: { json?: boolean; 'machine-readable'?: boolean }): true {
  if (argv.json && argv['machine-readable']) throw new UsageError('--json and -machine-readable are two output formats: give one of them');
  return true;
}
