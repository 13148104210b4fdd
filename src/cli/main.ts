#!/usr/bin/env node
// kiln's command line. Each command lives in its own module under ./commands and is loaded
// only when it runs, so `kiln --help` and `kiln ls` start fast.
import { hideBin } from 'yargs/helpers';
import { createCli, unknownFlagsMessage } from './parse.js';

const args = hideBin(process.argv);

// An unknown flag is an error that names the nearest known one, before yargs reads anything
// (yargs would take the next word, the template, as its value and complain about that instead).
const unknown = unknownFlagsMessage(args);
if (unknown !== undefined) {
  process.stderr.write(unknown);
  process.exit(2);
}

await createCli(args).parseAsync();
