// `kiln init`: what `packer init` installs, kiln has built in. A template's `packer {
// required_plugins { … } }` is read: the scaleway plugin is kiln's own builder (whatever version
// is asked for, with a warning when the constraint excludes the plugin version kiln follows); any
// other plugin is refused, named, with what kiln supports instead.
import { TemplateError } from './errors.js';
import { pluginRequirements, readHclFiles, SCALEWAY_PLUGIN_SOURCES, topLevelBlocks, type PluginRequirement } from './hcl/files.js';
import { isHclTemplate } from './load.js';

/** The packer-plugin-scaleway release whose keys and behaviour kiln follows (shared/reference/packer-today.md). */
export const SCALEWAY_PLUGIN_VERSION = '1.5.0';

export interface InitReport {
  /** One line per requirement, or the line saying there is none. */
  lines: string[];
  warnings: string[];
}

/** Throws TemplateError for a plugin kiln does not have, or a constraint it cannot read. */
export async function initTemplate(path: string): Promise<InitReport> {
  const requirements = (await isHclTemplate(path)) ? await requiredPlugins(path) : [];
  if (requirements.length === 0) return { lines: [`${path}: no required_plugins: nothing to install (kiln's Scaleway builder is built in)`], warnings: [] };
  const lines: string[] = [];
  const warnings: string[] = [];
  const problems = [];
  for (const req of requirements) {
    const where = `required_plugins.${req.name}`;
    const source = req.source?.toLowerCase();
    if (req.name !== 'scaleway' || (source !== undefined && !SCALEWAY_PLUGIN_SOURCES.includes(source) && !source.endsWith('/scaleway'))) {
      problems.push({ path: where, message: `kiln has no "${req.name}" plugin${req.source ? ` (${req.source})` : ''}: it builds Scaleway images with its own builder`, hint: `kiln supports the scaleway builder (${SCALEWAY_PLUGIN_SOURCES.join(' or ')}), the shell, file and shell-local provisioners and the manifest and shell-local post-processors; remove "${req.name}" from required_plugins` });
      continue;
    }
    if (source !== undefined && !SCALEWAY_PLUGIN_SOURCES.includes(source)) warnings.push(`${where}: the source "${req.source}" is not ${SCALEWAY_PLUGIN_SOURCES.join(' or ')}; kiln builds with its own Scaleway builder`);
    if (req.version !== undefined) {
      let allowed: boolean;
      try {
        allowed = satisfies(SCALEWAY_PLUGIN_VERSION, req.version);
      } catch (error) {
        problems.push({ path: `${where}.version`, message: (error as Error).message, hint: 'write a constraint such as ">= 1.0.0", "~> 1.5" or ">= 1.2, < 2.0"' });
        continue;
      }
      if (!allowed) warnings.push(`${where}: the constraint "${req.version}" excludes v${SCALEWAY_PLUGIN_VERSION}, the plugin version kiln follows; kiln builds with its own Scaleway builder all the same`);
    }
    lines.push(`scaleway${req.source ? ` (${req.source}${req.version ? ` ${req.version}` : ''})` : req.version ? ` (${req.version})` : ''}: built into kiln (it follows packer-plugin-scaleway v${SCALEWAY_PLUGIN_VERSION}), nothing to install`);
  }
  if (problems.length) throw new TemplateError(problems);
  return { lines, warnings };
}

async function requiredPlugins(path: string): Promise<PluginRequirement[]> {
  const { parsed, load } = await readHclFiles(path, {});
  return topLevelBlocks(parsed, load).packer.flatMap(pluginRequirements);
}

/** Whether `version` meets a Go-style constraint list (hashicorp/go-version: `>= 1.2, < 2`, `~> 1.5`, `!= 1.3.0`). */
export function satisfies(version: string, constraints: string): boolean {
  return constraints.split(',').every((raw) => {
    const match = /^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+)*)(-[0-9A-Za-z.-]+)?\s*$/.exec(raw);
    if (!match) throw new Error(`"${raw.trim()}" is not a version constraint`);
    const [, op = '=', wanted] = match;
    const cmp = compareVersions(version, wanted!);
    switch (op) {
      case '=':
        return cmp === 0;
      case '!=':
        return cmp !== 0;
      case '>':
        return cmp > 0;
      case '<':
        return cmp < 0;
      case '>=':
        return cmp >= 0;
      case '<=':
        return cmp <= 0;
      default: {
        // ~> 1.2.3 allows 1.2.x from 1.2.3; ~> 1.2 allows 1.x from 1.2.
        const parts = wanted!.split('.');
        const prefix = parts.slice(0, Math.max(1, parts.length - 1));
        return cmp >= 0 && version.split('.').slice(0, prefix.length).join('.') === prefix.map(Number).join('.');
      }
    }
  });
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
