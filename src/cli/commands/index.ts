// The list of kiln's commands. Each entry declares its options here (cheap) and imports its
// implementation lazily in its handler, so start-up only pays for the command that runs.
import type { CommandModule } from 'yargs';
import { simCommand } from './sim.js';
import { validateCommand } from './validate.js';
import { buildCommand } from './build.js';
import { resumeCommand } from './resume.js';
import { gcCommand } from './gc.js';
import { cacheCommand } from './cache.js';
import { lsCommand } from './ls.js';
import { showCommand } from './show.js';
import { dbCommand } from './db.js';
import { uiCommand } from './ui.js';
import { fmtCommand } from './fmt.js';
import { versionCommand } from './version.js';
import { inspectCommand } from './inspect.js';
import { consoleCommand } from './console.js';
import { upgradeCommand } from './upgrade.js';
import { initCommand } from './init.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  buildCommand,
  resumeCommand,
  gcCommand,
  cacheCommand,
  lsCommand,
  showCommand,
  uiCommand,
  dbCommand,
  initCommand,
  validateCommand,
  fmtCommand,
  inspectCommand,
  consoleCommand,
  upgradeCommand,
  simCommand,
  versionCommand,
];
