// `kiln resume` takes the build's lease before it reads the build's status and log: a build that
// another process finished, or that `kiln gc` cleaned, while this resume was starting is never
// resumed from what it read before. The window is made exact: the other process's write happens
// inside the lease acquisition (the moment a stale read would be acted on), on the same SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runResumeCommand } from '../../src/cli/run/resume.js';
import { EventStore, type NewEvent } from '../../src/store/index.js';

/** Runs `kiln resume <id>` in this process while another connection appends `write` the moment
 * the resume takes the lease; returns the exit code and what it printed. */
async function resumeRacing(db: string, id: string, write: NewEvent): Promise<{ code: number; output: string }> {
  const original = EventStore.prototype.acquireLease;
  let raced = false;
  EventStore.prototype.acquireLease = function (this: EventStore, ...args: Parameters<typeof original>) {
    if (!raced) {
      raced = true;
      const other = EventStore.open(db);
      try {
        other.append(id, write);
      } finally {
        other.close();
      }
    }
    return original.apply(this, args);
  };
  let output = '';
  const capture = new Writable({ write: (chunk: Buffer, _encoding, done) => ((output += String(chunk)), done()) });
  try {
    const code = await runResumeCommand({ id, db, force: false, json: false, debug: false, 'machine-readable': false, color: true, 'timestamp-ui': false }, { out: capture, err: capture });
    assert.ok(raced, 'the resume took the lease');
    return { code, output };
  } finally {
    EventStore.prototype.acquireLease = original;
  }
}

function newBuild(t: { after: (fn: () => void) => void }, status: 'running' | 'failed'): { db: string; id: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-resume-lease-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'kiln.db');
  const id = 'race-1';
  const store = EventStore.open(db);
  try {
    // The template is gone on purpose: a resume that went on from a stale read would stop at
    // loading it (exit 2), not at the status check under the lease.
    store.createBuild(
      { id, templatePath: join(dir, 'gone.json'), templateHash: 'h', builderName: 'scaleway', spec: null, onError: 'abort' },
      { type: 'build.started', data: {} },
    );
    if (status === 'failed') store.append(id, { type: 'build.failed', phase: 'provision', data: { error: { name: 'E', message: 'x', retryable: false }, cleanedUp: false } });
  } finally {
    store.close();
  }
  return { db, id };
}

function typesOf(db: string, id: string): string[] {
  const store = EventStore.open(db);
  try {
    return store.events(id).map((e) => e.type);
  } finally {
    store.close();
  }
}

test('a build gc cleaned while the resume was starting is not resumed', { timeout: 30_000 }, async (t) => {
  const { db, id } = newBuild(t, 'failed');
  const { code, output } = await resumeRacing(db, id, { type: 'build.cleaned', data: { by: 'gc' } });
  assert.equal(code, 1, output);
  assert.match(output, /was cleaned up by `kiln gc`; there is nothing to resume/);
  assert.ok(!typesOf(db, id).includes('build.resumed'));
});

test('a build that finished while the resume was starting is reported, not resumed', { timeout: 30_000 }, async (t) => {
  const { db, id } = newBuild(t, 'running');
  const artifact = { imageId: 'i-1', imageName: 'img', snapshotId: 's-1', snapshotName: 'snap', zone: 'fr-par-1' };
  const { code, output } = await resumeRacing(db, id, { type: 'build.succeeded', data: { artifact } });
  assert.equal(code, 0, output);
  assert.match(output, /Build race-1 already succeeded: An image was created: 'img' \(ID: i-1\)/);
  assert.ok(!typesOf(db, id).includes('build.resumed'));
});
