// kiln's command-line parser: yargs with kiln's commands, reading Packer's single-dash spellings.
// main.ts runs it; tests parse with it (their own handlers) to see what each spelling means.
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';

// yargs 17's ES module build wraps help text every N characters, cutting words in two
// ("unfinish / ed"; yargs/yargs#2112, fixed only in yargs 18, which needs a newer Node 20);
// its CommonJS build wraps at word boundaries.
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
import { packerStyleArgv, unknownFlags } from './argv.js';
import { commands as kilnCommands } from './commands/index.js';
import { UsageError } from './usage-error.js';

/** A command as kiln's command list holds them (tests pass their own handlers). */
type AnyCommand = (typeof kilnCommands)[number];

export function createCli(args: readonly string[], commands: readonly AnyCommand[] = kilnCommands): Argv {
  // Packer's single-dash long flags (`-var`, `-machine-readable`) read as kiln's `--var`, … .
  const cli = yargs(packerStyleArgv(args))
    .scriptName('kiln')
    .usage('$0 <command> [options]\n\nBuild Scaleway images that survive crashes: every step is recorded, every build resumable.')
    .strict()
    .demandCommand(1, 'Name a command; `kiln --help` lists them.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    // main.ts sends --version to `kiln version` (kiln's, Node's and the store schema's versions).
    .version(false)
    .option('version', { type: 'boolean', describe: 'Print the versions of kiln, Node and the store schema (kiln version)' })
    .completion('completion', 'Print a shell completion script: kiln completion bash >> ~/.bashrc, or kiln completion zsh >> ~/.zshrc')
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // Usage errors exit 2 (the exit code documented for invalid input); other errors are
      // reported by the commands themselves. yargs' own parse errors (a YError, such as "Not enough
      // arguments following: var") and a command's UsageError are usage errors too.
      if (error && error.name !== 'YError' && !(error instanceof UsageError)) throw error;
      process.stderr.write(`kiln: ${message ?? error?.message}\nRun \`kiln --help\` for usage.\n`);
      process.exit(2);
    });
  for (const command of commands) cli.command(command);
  return cli;
}

/**
 * The unknown flags of `args`, as one message with a did-you-mean each
 * (`kiln: unknown flag -machine-redable (did you mean -machine-readable?)`), or undefined.
 */
export function unknownFlagsMessage(args: readonly string[], commands: readonly AnyCommand[] = kilnCommands): string | undefined {
  const name = commandName(args, commands);
  const unknown = unknownFlags(args, optionsOf(commands.find((c) => nameOf(c.command) === name)));
  if (unknown.length === 0) return undefined;
  return `kiln: ${unknown.join('; ')}\nRun \`kiln ${name ? `${name} ` : ''}--help\` for usage.\n`;
}

/** The command the arguments name (the first word that is not a flag), if it is one of kiln's. */
function commandName(args: readonly string[], commands: readonly AnyCommand[]): string | undefined {
  const first = args.find((arg) => !arg.startsWith('-'));
  return commands.some((c) => nameOf(c.command) === first) ? first : undefined;
}

function nameOf(command: unknown): string | undefined {
  return typeof command === 'string' ? command.split(' ')[0] : undefined;
}

/** Every option name (and alias) the command declares, plus the global ones (--help, -h, --version). */
function optionsOf(command: AnyCommand | undefined): Set<string> {
  const declared = yargs([]).help().alias('h', 'help').version();
  if (typeof command?.builder === 'function') command.builder(declared);
  // getOptions() is public in yargs 17 but missing from its type definitions.
  const { key, alias } = (declared as Argv & { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  return new Set([...Object.keys(key), ...Object.entries(alias).flatMap(([name, others]) => [name, ...others])]);
}
