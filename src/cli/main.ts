#!/usr/bin/env node
// kiln's command line. Each command lives in its own module under ./commands and is loaded
// only when it runs, so `kiln --help` and `kiln ls` start fast.
import { createRequire } from 'node:module';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.js';

// yargs 17's ES module build wraps help text every N characters, cutting words in two
// ("unfinish / ed"; yargs/yargs#2112, fixed only in yargs 18, which needs a newer Node 20);
// its CommonJS build wraps at word boundaries.
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
const cli = yargs(hideBin(process.argv))
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
