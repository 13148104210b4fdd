// `kiln console [template]`: evaluates expressions against a template's variables and locals
// (src/template/console.ts). Piped, as `packer console` does: every line is evaluated (each error
// is reported) and the last line's value is printed. On a terminal: a `> ` prompt, one value per
// line, until `exit`, Ctrl-D or Ctrl-C on an empty line.
import { createInterface } from 'node:readline';
import { openConsole, type Console } from '../../template/console.js';
import { formatProblems, TemplateError } from '../../template/errors.js';
import { templateInputsFromArgv } from '../../template/options.js';
import { PackerUi } from '../render/machine.js';

export interface ConsoleArgs {
  template?: string;
  var?: string[];
  'var-file'?: string[];
  'machine-readable': boolean;
}

export interface ConsoleIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
  /** A person at a terminal (a prompt), or lines piped in. */
  interactive: boolean;
}

const processIo = (): ConsoleIo => ({ input: process.stdin, output: process.stdout, errors: process.stderr, interactive: process.stdin.isTTY === true });

/** Exit code: 0; 2 when the template cannot be read or a piped line is not a valid expression. */
export async function runConsole(args: ConsoleArgs, io: ConsoleIo = processIo()): Promise<number> {
  const ui = args['machine-readable'] ? new PackerUi('machine', io.output) : undefined;
  const print = (kind: 'say' | 'message', text: string): void => (ui ? ui.ui(kind, text) : void io.output.write(`${text}\n`));
  const fail = (text: string): void => (ui ? ui.ui('error', text) : void io.errors.write(`kiln console: ${text}\n`));
  let console: Console;
  try {
    console = await openConsole(args.template, templateInputsFromArgv(args));
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    fail(`${args.template}: ${formatProblems(error.problems)}`);
    return 2;
  }

  const lines = createInterface({ input: io.input, output: io.interactive ? io.output : undefined, prompt: '> ', terminal: io.interactive });
  if (!io.interactive) {
    let last = '';
    let code = 0;
    for await (const line of lines) {
      const answer = console.evaluate(line.trim());
      last = 'value' in answer ? answer.value : '';
      if ('error' in answer) {
        fail(answer.error);
        code = 2;
      }
    }
    print('message', last);
    return code;
  }

  lines.on('SIGINT', () => {
    // Ctrl-C clears a line being typed; on an empty line it leaves, as Packer's console does.
    if (lines.line === '') lines.close();
    else {
      io.output.write('^C\n');
      lines.write(null, { ctrl: true, name: 'u' });
      lines.prompt();
    }
  });
  lines.prompt();
  for await (const line of lines) {
    const answer = console.evaluate(line.trim());
    if ('exit' in answer) break;
    if ('error' in answer) fail(answer.error);
    else print('say', answer.value);
    lines.prompt();
  }
  lines.close();
  return 0;
}
