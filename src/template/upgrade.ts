// `kiln hcl2_upgrade`: a JSON template → the HCL2 template that kiln builds identically (the same
// BuildSpecs; only the build's name gains the `scaleway.` prefix HCL2 gives every source). Where
// Packer 1.6.6's converter changes meaning, this one does not: `{{timestamp}}`, `{{uuid}}`,
// `{{isotime}}` and the other template functions stay as they are (kiln, like Packer's plugins,
// expands them after HCL2), pause_before is kept, and an unnamed builder keeps its name.
// `{{user \`x\`}}` becomes `var.x`, `{{env \`X\`}}` in a default `env("X")`, `{{build_name}}`
// `build.name`. The text is laid out by kiln fmt's formatter.
import { Problems, TemplateError } from './errors.js';
import { describeType, isObject, type JsonObject } from './fields.js';
import { formatHcl } from './hcl/format.js';
import { readJsonTemplate } from './json-template.js';

/** Keys of the scaleway builder written as nested blocks in HCL2 (`root_volume { … }`, one `block_volume { … }` each). */
const BUILDER_BLOCKS = new Set(['root_volume', 'block_volume']);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export interface Upgraded {
  hcl: string;
  /** What could not be carried over as it was (kept as written; kiln validate says whether it works). */
  warnings: string[];
}

export async function upgradeTemplate(path: string): Promise<Upgraded> {
  return new Converter(await readJsonTemplate(path)).convert();
}

class Converter {
  private readonly problems = new Problems();
  private readonly warnings: string[] = [];

  constructor(private readonly template: JsonObject) {}

  convert(): Upgraded {
    const t = this.template;
    const parts: string[] = [];
    if (typeof t.min_packer_version === 'string') parts.push(`packer {\nrequired_version = ${this.quoted(`>= ${t.min_packer_version}`, 'min_packer_version')}\n}\n`);
    parts.push(...this.variables());
    const builders = Array.isArray(t.builders) ? t.builders : [];
    if (builders.length === 0) this.problems.add('builders', 'the template has no builders', 'add a {"type": "scaleway", …} builder first');
    const names = builders.map((builder, i) => this.source(builder, i, parts));
    parts.push(this.build(names));
    if (this.problems.count) throw new TemplateError(this.problems.list);
    return { hcl: formatHcl(parts.join('\n')), warnings: this.warnings };
  }

  private variables(): string[] {
    const declared = this.template.variables;
    if (declared === undefined || declared === null) return [];
    if (!isObject(declared)) {
      this.problems.add('variables', `must be an object of "name": "default", not ${describeType(declared)}`);
      return [];
    }
    const sensitive = new Set(Array.isArray(this.template['sensitive-variables']) ? this.template['sensitive-variables'].map(String) : []);
    return Object.entries(declared).map(([name, value]) => {
      const path = `variables.${name}`;
      if (!IDENTIFIER.test(name)) this.problems.add(path, `"${name}" is not a valid HCL2 variable name`, 'rename it: letters, digits, _ and -, not starting with a digit');
      const lines = [`variable "${name}" {`, 'type = string'];
      if (value !== null) lines.push(`default = ${this.defaultValue(value, path)}`);
      if (sensitive.has(name)) lines.push('sensitive = true');
      return `${lines.join('\n')}\n}\n`;
    });
  }

  // A default is a constant, or env("X") (HCL2 allows nothing else there).
  private defaultValue(value: unknown, path: string): string {
    if (typeof value !== 'string') return this.expression(value, path);
    const whole = /^\{\{\s*env\s+[`"]([^`"]*)[`"]\s*\}\}$/.exec(value);
    if (whole) return `env(${JSON.stringify(whole[1])})`;
    if (/\{\{\s*user\s/.test(value)) this.problems.add(path, 'a default that reads another variable ({{user …}}) has no HCL2 form: defaults are constants', 'give it a constant default and compute the combined value in a locals block');
    return this.quoted(value, path, true);
  }

  // One source per builder, named as the JSON build was (its name, else its type).
  private source(raw: unknown, index: number, parts: string[]): string | undefined {
    const path = `builders[${index}]`;
    if (!isObject(raw) || raw.type !== 'scaleway') {
      this.problems.add(`${path}.type`, `only "scaleway" builders convert (kiln builds Scaleway images), not ${isObject(raw) ? JSON.stringify(raw.type) : describeType(raw)}`);
      return undefined;
    }
    const name = typeof raw.name === 'string' ? raw.name : 'scaleway';
    if (!IDENTIFIER.test(name)) {
      this.problems.add(`${path}.name`, `"${name}" is not a valid HCL2 source name`, 'rename the builder: letters, digits, _ and -, not starting with a digit');
      return undefined;
    }
    const body = Object.entries(raw).filter(([key]) => key !== 'type' && key !== 'name');
    parts.push(`source "scaleway" "${name}" {\n${this.body(body, path, BUILDER_BLOCKS)}}\n`);
    return name;
  }

  private build(names: Array<string | undefined>): string {
    const t = this.template;
    const lines: string[] = ['build {'];
    if (typeof t.description === 'string') lines.push(`description = ${this.quoted(t.description, 'description')}`);
    lines.push(`sources = [${names.filter((n): n is string => n !== undefined).map((n) => `"source.scaleway.${n}"`).join(', ')}]`);
    (Array.isArray(t.provisioners) ? t.provisioners : []).forEach((raw, i) => lines.push('', this.step('provisioner', raw, `provisioners[${i}]`)));
    (Array.isArray(t['post-processors']) ? t['post-processors'] : []).forEach((raw, i) => {
      const path = `post-processors[${i}]`;
      if (!Array.isArray(raw)) lines.push('', this.step('post-processor', raw, path));
      else lines.push('', `post-processors {\n${raw.map((item, j) => this.step('post-processor', item, `${path}[${j}]`)).join('\n')}\n}`);
    });
    lines.push('}', '');
    return lines.join('\n');
  }

  private step(kind: 'provisioner' | 'post-processor', raw: unknown, path: string): string {
    const object = typeof raw === 'string' ? { type: raw } : raw;
    if (!isObject(object) || typeof object.type !== 'string') {
      this.problems.add(path, `a ${kind} needs a "type"`);
      return '';
    }
    const body = Object.entries(object)
      .filter(([key]) => key !== 'type')
      // only/except name builds: in HCL2 a build is its source, scaleway.NAME.
      .map(([key, value]): [string, unknown] => ((key === 'only' || key === 'except') && Array.isArray(value) ? [key, value.map((n) => `scaleway.${String(n)}`)] : [key, value]));
    return `${kind} "${object.type}" {\n${this.body(body, path, new Set())}}`;
  }

  private body(entries: Array<[string, unknown]>, path: string, blocks: ReadonlySet<string>): string {
    let out = '';
    for (const [key, value] of entries) {
      const at = `${path}.${key}`;
      if (!IDENTIFIER.test(key)) {
        this.problems.add(at, `"${key}" is not a valid HCL2 argument name`);
        continue;
      }
      if (blocks.has(key) && isObject(value)) out += `${key} {\n${this.body(Object.entries(value), at, new Set())}}\n`;
      else if (blocks.has(key) && Array.isArray(value) && value.every(isObject)) out += value.map((item, i) => `${key} {\n${this.body(Object.entries(item as JsonObject), `${at}[${i}]`, new Set())}}\n`).join('');
      else out += `${key} = ${this.expression(value, at)}\n`;
    }
    return out;
  }

  private expression(value: unknown, path: string): string {
    if (typeof value === 'string') return this.quoted(value, path);
    if (typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map((item, i) => this.expression(item, `${path}[${i}]`)).join(', ')}]`;
    if (isObject(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0) return '{}';
      return `{\n${entries.map(([key, item]) => `${IDENTIFIER.test(key) && !['true', 'false', 'null'].includes(key) ? key : JSON.stringify(key)} = ${this.expression(item, `${path}.${key}`)}\n`).join('')}}`;
    }
    this.problems.add(path, `cannot convert ${describeType(value)}`);
    return 'null';
  }

  /**
   * A JSON string as an HCL2 quoted template: HCL's own `${` and `%{` escaped, `{{user \`x\`}}`
   * → `${var.x}`, `{{build_name}}` → `${build.name}`, `{{env \`X\`}}` → `${env("X")}` (defaults
   * only); every other Go template action is kept for kiln to expand as the JSON template did.
   */
  private quoted(text: string, path: string, inDefault = false): string {
    const only = /^\{\{\s*user\s+[`"]([A-Za-z_][A-Za-z0-9_-]*)[`"]\s*\}\}$/.exec(text);
    if (only) return `var.${only[1]}`; // the variable itself rather than "${var.x}"
    let out = '';
    let last = 0;
    for (const match of text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)) {
      out += escapeHcl(text.slice(last, match.index));
      const action = match[1]!;
      const user = /^user\s+[`"]([^`"]+)[`"]$/.exec(action);
      const env = /^env\s+[`"]([^`"]*)[`"]$/.exec(action);
      if (user) {
        if (!IDENTIFIER.test(user[1]!)) this.problems.add(path, `{{user \`${user[1]}\`}} names no variable HCL2 can hold`);
        out += `\${var.${user[1]}}`;
      } else if (action === 'build_name') out += '${build.name}';
      else if (env && inDefault) out += `\${env(${JSON.stringify(env[1])})}`;
      else {
        if (/\buser\b/.test(action)) this.warnings.push(`${path}: ${match[0]} is kept as written: rewrite it with var.NAME`);
        out += escapeHcl(match[0]);
      }
      last = match.index + match[0].length;
    }
    return `"${out}${escapeHcl(text.slice(last))}"`;
  }
}

/** Text inside an HCL2 quoted string: escapes for `\`, `"` and control characters; `${`/`%{` doubled so they stay literal. */
function escapeHcl(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, '$${')
    .replace(/%\{/g, '%%{');
}
