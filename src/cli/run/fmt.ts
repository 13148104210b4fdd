// `kiln fmt`: rewrites HCL2 files (.pkr.hcl, .pkrvars.hcl) in canonical layout, as `packer fmt`
// does (Packer 1.16's behaviour, byte-identical output to Packer 1.6.6's): each changed file is
// named on stdout; -check writes nothing and exits 3 when a file would change; -diff prints a
// unified diff; `-` formats stdin to stdout. A file that does not parse is reported at
// file:line:col and left alone (exit 2). JSON templates are never touched.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { formatProblems } from '../../template/errors.js';
import { formatHcl } from '../../template/hcl/format.js';
import { HclSyntaxError, parseFile } from '../../template/hcl/parser.js';
import { HclReporter } from '../../template/hcl/report.js';
import type { TextOutput } from '../../shared/text-output.js';
import { STDIN_PATH } from '../argv.js';

export interface FmtArgs {
  paths?: string[];
  check: boolean;
  diff: boolean;
  write: boolean;
  recursive: boolean;
}

/** The exit code when a file would change under -check (Packer's and Terraform's). */
export const FMT_CHECK_FAILED = 3;

const HCL_FILE = /\.(pkr|pkrvars)\.hcl$/;

/** Editor and system files a directory walk skips, as Packer does: hidden, `x~`, `#x#`. */
const ignored = (name: string): boolean => name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#'));

/** Exit code: 0 formatted (or nothing to do), 3 a file would change under -check, 2 a bad path or a file that does not parse. */
export async function runFmt(args: FmtArgs, out: TextOutput, stdin: () => Promise<string> = readStdin): Promise<number> {
  const write = args.write && !args.check;
  const reporter = new HclReporter(process.cwd());
  const refused: string[] = [];
  let changed = 0;

  const formatOne = async (file: string): Promise<void> => {
    const fromStdin = file === '-' || file === STDIN_PATH;
    const text = fromStdin ? await stdin() : await readFile(file, 'utf8');
    reporter.addSource(fromStdin ? '<stdin>' : file, text);
    try {
      parseFile(text, fromStdin ? '<stdin>' : file);
    } catch (error) {
      if (!(error instanceof HclSyntaxError)) throw error;
      reporter.report(error.diagnostic);
      return;
    }
    const formatted = formatHcl(text);
    if (formatted === text) {
      if (fromStdin && write) out.stdout(text);
      return;
    }
    changed++;
    if (fromStdin) {
      if (write) out.stdout(formatted);
      return;
    }
    out.stdout(`${file}\n`);
    if (write) await writeFile(file, formatted);
    if (args.diff) out.stdout(createTwoFilesPatch(`old/${file}`, `new/${file}`, text, formatted).replace(/^=+\n/, ''));
  };

  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (ignored(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (args.recursive) await walk(path);
      } else if (HCL_FILE.test(entry.name)) await formatOne(path);
    }
  };

  for (const path of args.paths?.length ? args.paths : ['.']) {
    if (path === '-' || path === STDIN_PATH) {
      await formatOne(path);
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info) refused.push(`${path}: no such file or directory`);
    else if (info.isDirectory()) await walk(path);
    else if (HCL_FILE.test(path)) await formatOne(path);
    else refused.push(`${path}: not an HCL2 file: kiln fmt formats .pkr.hcl and .pkrvars.hcl files (JSON templates are left as they are)`);
  }

  for (const message of refused) out.stderr(`kiln fmt: ${message}\n`);
  if (reporter.problems.count) {
    out.stderr(`kiln fmt: ${formatProblems(reporter.problems.list).replace(/^the template has/, 'the files have')}\n(a file that does not parse is left as it is; fix it and run kiln fmt again)\n`);
  }
  if (refused.length || reporter.problems.count) return 2;
  return args.check && changed > 0 ? FMT_CHECK_FAILED : 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
