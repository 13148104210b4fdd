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

// A closed output (`kiln build t.json | head -3`) must not kill a build half-way: like a terminal
// that went away, the stream is no longer written to, and the build goes on to its end, recording
// every step in the store (`kiln show` has it all). Writes after that are dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = ((...rest: unknown[]) => {
      const callback = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    }) as typeof stream.write;
  });
}

// An unknown flag is an error that names the nearest known one, before yargs reads anything
// (yargs would take the next word, the template, as its value and complain about that instead).
// (The completion script calls kiln with yargs' own --get-yargs-completions.)
const unknown = args.includes('--get-yargs-completions') ? undefined : unknownFlagsMessage(args);
if (unknown !== undefined) {
  process.stderr.write(unknown);
  process.exit(2);
}

try {
  await createCli(args).parseAsync();
} catch (error) {
  // A store that is damaged, read-only, full or locked is said as such, with its file; anything
  // else is a bug, shown with its trace.
  const { storeFailure } = await import('./run/open-store.js');
  const problem = storeFailure(error);
  if (problem === undefined) throw error;
  const command = args.find((arg) => !arg.startsWith('-'));
  process.stderr.write(`kiln${command ? ` ${command}` : ''}: ${problem}\n`);
  process.exit(1);
}
