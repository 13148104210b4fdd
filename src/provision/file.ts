// The `file` provisioner: uploads (or downloads) files and directories with Packer's rules —
// a directory source ending in `/` copies its contents into the destination, without the
// slash the directory itself goes inside the destination; a destination ending in `/` receives
// files under their own names.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { FileProvisionerSpec } from '../template/spec.js';
import { SshConnectError, SshDisconnectError, type Communicator } from '../ssh/index.js';
import { ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';

export async function runFile(spec: FileProvisionerSpec, ctx: ProvisionContext, communicator: Communicator): Promise<void> {
  if (spec.content === undefined) return copySources(spec, spec.sources, ctx, communicator);
  // `content`: written to a local file named as Packer names it, then uploaded as a source.
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-file-content-'));
  try {
    const file = join(scratch, 'pkr-file-content');
    await writeFile(file, spec.content, { mode: 0o644 });
    await copySources(spec, [file], ctx, communicator);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function copySources(spec: FileProvisionerSpec, sources: string[], ctx: ProvisionContext, communicator: Communicator): Promise<void> {
  const where = provisionerLabel(spec);
  const options = { signal: ctx.signal };
  for (const source of sources) {
    try {
      if (spec.direction === 'upload') {
        const stats = await stat(source).catch(() => {
          throw new Error(`local source ${source} does not exist or cannot be read`);
        });
        if (stats.isDirectory() && source.endsWith('/')) {
          // Contents only: the destination directory itself (say /tmp) keeps its own mode.
          for (const name of await readdir(source)) {
            await communicator.upload(join(source, name), posix.join(spec.destination, name), options);
          }
        } else if (stats.isDirectory() || spec.destination.endsWith('/')) {
          await communicator.upload(source, posix.join(spec.destination, basename(source)), options);
        } else {
          await communicator.upload(source, spec.destination, options);
        }
      } else {
        const target =
          !source.endsWith('/') && spec.destination.endsWith('/')
            ? join(spec.destination, posix.basename(source))
            : spec.destination;
        await communicator.download(source, target, options);
      }
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new ProvisionerError(`${where}: ${spec.direction} of ${source}: ${(err as Error).message}`, {
        index: spec.index,
        retryable: err instanceof SshDisconnectError || err instanceof SshConnectError,
      });
    }
  }
}
