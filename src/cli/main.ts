#!/usr/bin/env node
// kiln's command line. Each command lives in its own module under ./commands and is loaded
// only when it runs, so `kiln --help` and `kiln ls` start fast.
import { hideBin } from 'yargs/helpers';
import { createCli, unknownFlagsMessage } from './parse.js';

// `kiln --version` (and Packer's `-version`, `-v`) is `kiln version`: kiln, Node and the store schema.
const given = hideBin(process.argv);
const args = ['--version', '-version', '-v'].includes(given[0] ?? '') ? ['version', ...given.slice(1)] : given;

// `kiln completion zsh` / `kiln completion bash`: yargs picks the script by $SHELL.
if (args[0] === 'completion' && (args[1] === 'zsh' || args[1] === 'bash')) {
  process.env.SHELL = `/bin/${args[1]}`;
  args.splice(1, 1);
}

// An unknown flag is an error that names the nearest known one, before yargs reads anything
// (yargs would take the next word, the template, as its value and complain about that instead).
// (The completion script calls kiln with yargs' own --get-yargs-completions.)
const unknown = args.includes('--get-yargs-completions') ? undefined : unknownFlagsMessage(args);
if (unknown !== undefined) {
  process.stderr.write(unknown);
  process.exit(2);
}

await createCli(args).parseAsync();
