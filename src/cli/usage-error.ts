// A command line that does not make sense (a flag's value out of range, two flags that exclude each
// other): thrown from a command's yargs `.check`, it ends in exit 2 with its message, as yargs' own
// usage errors do (parse.ts's fail handler), never as a stack trace.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
