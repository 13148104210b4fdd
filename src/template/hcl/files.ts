// The files of an HCL2 template, as Packer finds and reads them, and their top-level structure:
// which blocks a template may hold, and the `packer` block's checks. Syntax errors and misplaced
// blocks are reported at file:line:col; this is all `kiln validate -syntax-only` checks.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { TemplateError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { Block } from './ast.js';
import type { Range } from './lexer.js';
import { parseJsonFile } from './json.js';
import { HclSyntaxError, parseFile, type ParsedFile } from './parser.js';
import { checkSchema, HclReporter } from './report.js';

const TOP_LEVEL_BLOCKS = ['packer', 'source', 'variable', 'variables', 'locals', 'local', 'build'];
const REFUSED_TOP_LEVEL: Record<string, string> = {
  data: 'data sources are not supported by kiln: compute the value outside and pass it with -var',
  hcp_packer_registry: 'kiln does not publish to HCP Packer',
};
/** The plugin sources whose scaleway builder kiln is (`required_plugins { scaleway = { source = … } }`). */
export const SCALEWAY_PLUGIN_SOURCES = ['github.com/scaleway/scaleway', 'github.com/hashicorp/scaleway'];

/** A template's files, read and parsed (template files only; var files are parsed with the variables). */
export interface HclFiles {
  cwd: string;
  /** Where problems go; it knows every file's text, to quote lines. */
  load: HclReporter;
  /** The directory given, or the given file's. */
  templateDir: string;
  /** Auto var files, then -var-file ones, as absolute paths. */
  varFiles: string[];
  /** Every file's text, by absolute path. */
  texts: Map<string, string>;
  /** sha256 over every file read (template and var files). */
  templateHash: string;
  parsed: ParsedFile[];
}

/**
 * The files of an HCL2 template as Packer finds them (a directory is read non-recursively, HCL
 * files before JSON ones; auto var files, then -var-file ones), read and parsed. Syntax errors are
 * reported with their file:line:col; this is all `kiln validate -syntax-only` checks.
 */
export async function readHclFiles(path: string, options: { varFiles?: readonly string[] }): Promise<HclFiles> {
  const cwd = process.cwd();
  const root = resolve(path);
  const load = new HclReporter(cwd);
  const fail = (message: string, hint?: string): never => {
    throw new TemplateError([{ path, message, ...(hint ? { hint } : {}) }]);
  };

  let info;
  try {
    info = await stat(root);
  } catch {
    return fail('the template does not exist', 'give a .pkr.hcl file or a directory of them');
  }
  const templateDir = info.isDirectory() ? root : dirname(root);
  let templateFiles: string[];
  let autoVarFiles: string[] = [];
  if (info.isDirectory()) {
    const names = (await readdir(root)).sort();
    templateFiles = [...names.filter((n) => n.endsWith('.pkr.hcl')), ...names.filter((n) => n.endsWith('.pkr.json'))].map((n) => join(root, n));
    autoVarFiles = [...names.filter((n) => n.endsWith('.auto.pkrvars.hcl')), ...names.filter((n) => n.endsWith('.auto.pkrvars.json'))].map((n) => join(root, n));
    if (templateFiles.length === 0) fail('the directory has no .pkr.hcl or .pkr.json file', 'Packer (and kiln) read the *.pkr.hcl files of a directory, not its subdirectories');
  } else templateFiles = [root];
  const varFiles = [...autoVarFiles, ...(options.varFiles ?? []).map((f) => resolve(f))];

  // Every file read goes into the template hash, so resume notices a change in any of them.
  const hash = createHash('sha256');
  const texts = new Map<string, string>();
  for (const file of [...templateFiles, ...varFiles]) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      load.problems.add(file, code === 'ENOENT' ? 'the file does not exist' : `cannot read the file: ${code ?? (error as Error).message}`);
      continue;
    }
    texts.set(file, text);
    load.addSource(file, text);
    hash.update(`${file.startsWith(templateDir) ? relative(templateDir, file) : file}\u0000${text}\u0000`);
  }
  if (load.problems.count) throw new TemplateError(load.problems.list);
  const templateHash = hash.digest('hex');

  const parsed: ParsedFile[] = [];
  for (const file of templateFiles) {
    const result = parseAny(file, texts.get(file)!, load);
    if (result) parsed.push(result);
  }
  if (load.problems.count) throw new TemplateError(load.problems.list);
  return { cwd, load, templateDir, varFiles, texts, templateHash, parsed };
}

/** The top-level blocks of the parsed files, by type; arguments and unknown blocks are reported (as Packer's parser does). */
export function topLevelBlocks(parsed: ParsedFile[], load: HclReporter) {
  const blocks = { variable: [] as Block[], variables: [] as Block[], locals: [] as Block[], local: [] as Block[], source: [] as Block[], build: [] as Block[], packer: [] as Block[] };
  for (const file of parsed) {
    for (const item of file.body.items) {
      if (item.kind === 'attribute') {
        load.report({ summary: 'Unsupported argument', detail: `An argument named "${item.name}" is not expected here.`, range: item.nameRange, hint: 'arguments belong inside a source, build, variable or locals block' });
        continue;
      }
      if (Object.hasOwn(REFUSED_TOP_LEVEL, item.type)) {
        load.report({ summary: `Unsupported block type`, detail: `Blocks of type "${item.type}" are not supported by kiln.`, range: item.typeRange, hint: REFUSED_TOP_LEVEL[item.type]! });
        continue;
      }
      if (!TOP_LEVEL_BLOCKS.includes(item.type)) {
        load.report({ summary: 'Unsupported block type', detail: `Blocks of type "${item.type}" are not expected here.`, range: item.typeRange, hint: didYouMean(item.type, TOP_LEVEL_BLOCKS) ?? `a template has ${TOP_LEVEL_BLOCKS.join(', ')} blocks` });
        continue;
      }
      blocks[item.type as keyof typeof blocks].push(item);
    }
  }
  return blocks;
}


/** One file, native syntax or JSON (`.json`); a syntax error is reported and gives undefined. */
export function parseAny(file: string, text: string, load: HclReporter, varFile = false): ParsedFile | undefined {
  try {
    return file.endsWith('.json') ? parseJsonFile(text, file, { varFile }) : parseFile(text, file);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    load.report(error.diagnostic);
    return undefined;
  }
}

/** One `required_plugins` entry of a `packer` block (`NAME = { source = "…", version = "…" }`). */
export interface PluginRequirement {
  name: string;
  source?: string;
  version?: string;
  /** Where the entry's name was written. */
  nameRange: Range;
}

/** The `required_plugins` entries of a `packer` block, with their literal `source` and `version`. */
export function pluginRequirements(block: Block): PluginRequirement[] {
  const out: PluginRequirement[] = [];
  for (const item of block.body.items) {
    if (item.kind !== 'block' || item.type !== 'required_plugins') continue;
    for (const plugin of item.body.items) {
      if (plugin.kind !== 'attribute') continue;
      const fields = plugin.expr.kind === 'object' ? plugin.expr.items : [];
      const text = (key: string): string | undefined => {
        const field = fields.find((f) => (f.key.kind === 'variable' && f.key.name === key) || (f.key.kind === 'literal' && f.key.value === key));
        return field?.value.kind === 'literal' && typeof field.value.value === 'string' ? field.value.value : undefined;
      };
      const source = text('source');
      const version = text('version');
      out.push({ name: plugin.name, nameRange: plugin.nameRange, ...(source !== undefined ? { source } : {}), ...(version !== undefined ? { version } : {}) });
    }
  }
  return out;
}

/** The `packer` block: `required_version`, and `required_plugins` that can only ask for Scaleway. */
export function checkPackerBlock(block: Block, load: HclReporter): void {
  checkSchema(block.body, load, { attributes: ['required_version'], blocks: ['required_plugins'] }, 'the packer block');
  for (const plugin of pluginRequirements(block)) {
    if (plugin.name !== 'scaleway') {
      load.report({ summary: 'Unsupported plugin', detail: `kiln builds with its own Scaleway builder and has no "${plugin.name}" plugin.`, range: plugin.nameRange, hint: 'remove this required_plugins entry' });
      continue;
    }
    if (plugin.source && !SCALEWAY_PLUGIN_SOURCES.includes(plugin.source.toLowerCase())) {
      load.warnings.push(`${load.location(plugin.nameRange).file}: required_plugins asks for scaleway from "${plugin.source}"; kiln uses its own Scaleway builder`);
    }
  }
}
