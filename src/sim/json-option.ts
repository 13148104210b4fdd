// The simulator's options that take an object (`--faults`, `--quotas`): given as JSON text on the
// command line or as the object itself. Problems start with the option's name (`faults: …`), which
// `kiln sim` turns into exit 2.

/**
 * The object `input` holds, or an error naming `option`, with `example` (JSON text) when the text
 * is not JSON, and `shape` (what the object maps to what) when it is not an object.
 */
export function jsonObjectOption(option: string, input: unknown, example: string, shape: string): Record<string, unknown> {
  let spec = input;
  if (typeof input === 'string') {
    try {
      spec = JSON.parse(input);
    } catch {
      throw new Error(`${option}: not valid JSON: ${input}. Example: '${example}'`);
    }
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error(`${option}: expected an object of ${shape}, e.g. ${example}`);
  return spec as Record<string, unknown>;
}
