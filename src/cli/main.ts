#!/usr/bin/env node
// kiln's command line. Each command lives in its own module under ./commands and is loaded
// only when it runs, so `kiln --help` and `kiln ls` start fast.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packerStyleArgv, unknownFlags } from './argv.js';
import { commands } from './commands/index.js';

const given = hideBin(process.argv);

// An unknown flag is an error that names the nearest known one, before yargs reads anything.
const unknown = unknownFlags(given, optionsOf(commandName(given)));
if (unknown.length > 0) {
  const name = commandName(given);
  process.stderr.write(`kiln: ${unknown.join('; ')}\nRun \`kiln ${name ? `${name} ` : ''}--help\` for usage.\n`);
  process.exit(2);
}

// Packer's single-dash long flags (`-var`, `-machine-readable`) read as kiln's `--var`, … .
const cli = yargs(packerStyleArgv(given))
  .scriptName('kiln')
  .usage('$0 <command> [options]\n\nBuild Scaleway images that survive crashes: every step is recorded, every build resumable.')
  .strict()
  .demandCommand(1, 'Name a command; `kiln --help` lists them.')
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
  .wrap(Math.min(100, process.stdout.columns ?? 100))
  .fail((message, error) => {
    // Usage errors exit 2 (the exit code documented for invalid input); other errors are
    // reported by the commands themselves.
    if (error) throw error;
    process.stderr.write(`kiln: ${message}\nRun \`kiln --help\` for usage.\n`);
    process.exit(2);
  });

for (const command of commands) cli.command(command);

await cli.parseAsync();

/** The command the arguments name (the first word that is not a flag), if it is one of kiln's. */
function commandName(argv: readonly string[]): string | undefined {
  const first = argv.find((arg) => !arg.startsWith('-'));
  return commands.some((c) => nameOf(c.command) === first) ? first : undefined;
}

function nameOf(command: unknown): string | undefined {
  return typeof command === 'string' ? command.split(' ')[0] : undefined;
}

/** Every option name (and alias) the command declares, plus the global ones (--help, -h, --version). */
function optionsOf(name: string | undefined): Set<string> {
  const declared = yargs([]).help().alias('h', 'help').version();
  const command = commands.find((c) => nameOf(c.command) === name);
  if (typeof command?.builder === 'function') command.builder(declared);
  // getOptions() is public in yargs 17 but missing from its type definitions.
  const { key, alias } = (declared as Argv & { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  return new Set([...Object.keys(key), ...Object.entries(alias).flatMap(([name, others]) => [name, ...others])]);
}
