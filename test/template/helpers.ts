// Shared fixtures for the template tests: templates written to a fresh temporary directory,
// an environment isolated from the machine's own SCW_* variables and config file.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { loadTemplate, TemplateError, type LoadTemplateOptions, type LoadedTemplate, type TemplateProblem } from '../../src/template/index.js';

export const SECRET = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
export const OTHER_SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
export const PROJECT = '11111111-2222-4333-8444-555555555555';
export const IMAGE_UUID = '8f2f9c2e-7b1a-4a8e-9c6d-2f1e3b4a5c6d';

/** A valid builder: tests override or delete keys from it. */
export function builder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    type: 'scaleway',
    access_key: 'SCWABCDEFGHIJKLMNOPQ',
    secret_key: SECRET,
    project_id: PROJECT,
    zone: 'fr-par-1',
    image: 'ubuntu_jammy',
    commercial_type: 'DEV1-S',
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** A directory removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-template-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (relative path → content; objects become JSON) into `dir`. */
export function writeFiles(dir: string, files: Record<string, unknown>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
}

/** An environment with nothing from this machine: HOME points at an empty directory. */
export function cleanEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: join(dir, 'home'), ...extra };
}

export interface Fixture {
  dir: string;
  path: string;
  load(options?: LoadTemplateOptions): Promise<LoadedTemplate>;
  problems(options?: LoadTemplateOptions): Promise<TemplateProblem[]>;
}

/** Writes `template` (plus `files`) to a fresh directory; load() uses an isolated environment unless told otherwise. */
export function fixture(template: unknown, files: Record<string, unknown> = {}): Fixture {
  const dir = tempDir();
  writeFiles(dir, { 'template.json': template, ...files });
  const path = join(dir, 'template.json');
  const load = (options: LoadTemplateOptions = {}): Promise<LoadedTemplate> => loadTemplate(path, { env: cleanEnv(dir), ...options });
  return {
    dir,
    path,
    load,
    async problems(options = {}) {
      try {
        await load(options);
      } catch (error) {
        if (error instanceof TemplateError) return error.problems;
        throw error;
      }
      assert.fail('expected the template to be rejected');
    },
  };
}

/** The one problem at `path` (fails with the full list otherwise). */
export function problemAt(problems: TemplateProblem[], path: string): TemplateProblem {
  const found = problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `expected one problem at ${path}, got: ${JSON.stringify(problems, null, 2)}`);
  return found[0]!;
}
