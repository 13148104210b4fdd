// The `file` provisioner's keys: upload or download files and directories.
import type { FileProvisionerSpec, ProvisionerCommon } from '../spec.js';
import type { FieldReader } from '../fields.js';
import { resolveLocalPath } from '../paths.js';
import { COMMON_KEYS, UNSUPPORTED_COMMON, checkLocalFile, isWritten, type ProvisionerContext } from './common.js';

const FILE_KEYS = [...COMMON_KEYS, 'source', 'sources', 'content', 'destination', 'direction', 'generated'];

export function readFile(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): FileProvisionerSpec {
  reader.checkKeys(FILE_KEYS, UNSUPPORTED_COMMON);
  const direction = reader.enumeration('direction', ['upload', 'download'] as const) ?? 'upload';
  // Packer uploads `sources` and then `source` when both are written.
  const written: Array<{ path: string; file: string }> = [];
  reader.stringList('sources')?.forEach((file, i) => written.push({ path: `${reader.path('sources')}[${i}]`, file }));
  const source = reader.string('source');
  if (source !== undefined) written.push({ path: reader.path('source'), file: source });
  const hasSources = isWritten(reader, 'source') || isWritten(reader, 'sources');
  const content = reader.has('content') ? (reader.string('content') ?? '') : undefined;
  if (content !== undefined && hasSources) ctx.problems.add(reader.path('content'), 'only one of "content" and "source"/"sources" may be set', 'content is written to the destination; sources are copied there');
  else if (content !== undefined && direction === 'download') ctx.problems.add(reader.path('content'), 'content is written to the server, so it cannot be downloaded', 'remove "direction": "download"');
  else if (content === undefined && !hasSources) ctx.problems.add(reader.path('source'), 'the file provisioner needs "source" (or "sources", or "content")', 'the file or directory to copy');

  const destination = reader.string('destination');
  if (destination === undefined) ctx.problems.add(reader.path('destination'), 'the file provisioner needs "destination"', direction === 'upload' ? 'the path on the server, e.g. "/etc/motd"' : 'the local path to download to');

  // Uploads read local files, which must exist now unless `generated` says an earlier step makes
  // them (they are looked for when the provisioner runs); downloads read remote ones and write locally.
  const generated = reader.bool('generated') ?? false;
  const local = (file: string): string => resolveLocalPath(ctx.templateDir, file, ctx.home);
  const resolvedSources = written.map(({ path, file }) => {
    if (direction === 'download') return file;
    const absolute = local(file);
    if (!generated) checkLocalFile(ctx, path, file, absolute, 'file or directory');
    return absolute;
  });
  return {
    type: 'file',
    ...common,
    sources: resolvedSources,
    destination: destination === undefined ? '' : direction === 'download' ? local(destination) : destination,
    direction,
    ...(content !== undefined ? { content } : {}),
  };
}
