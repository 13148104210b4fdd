// The `file` provisioner's keys: upload or download files and directories.
import type { FileProvisionerSpec, ProvisionerCommon } from '../spec.js';
import type { FieldReader } from '../fields.js';
import { resolveLocalPath } from '../paths.js';
import { COMMON_KEYS, UNSUPPORTED_COMMON, checkLocalFile, type ProvisionerContext } from './common.js';

const FILE_KEYS = [...COMMON_KEYS, 'source', 'sources', 'destination', 'direction'];
const UNSUPPORTED_FILE: Record<string, string> = { ...UNSUPPORTED_COMMON, generated: 'sources must exist when the template is checked', content: 'write the content to a file and upload it' };

export function readFile(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): FileProvisionerSpec {
  reader.checkKeys(FILE_KEYS, UNSUPPORTED_FILE);
  const direction = reader.enumeration('direction', ['upload', 'download'] as const) ?? 'upload';
  const written: Array<{ path: string; file: string }> = [];
  const present: string[] = [];
  const source = reader.string('source');
  if (source !== undefined) {
    present.push('source');
    written.push({ path: reader.path('source'), file: source });
  }
  const sources = reader.stringList('sources');
  if (sources && sources.length) {
    present.push('sources');
    sources.forEach((file, i) => written.push({ path: `${reader.path('sources')}[${i}]`, file }));
  }
  if (present.length === 0) ctx.problems.add(reader.path('source'), 'the file provisioner needs "source" (or "sources")', 'the file or directory to copy');
  else if (present.length > 1) ctx.problems.add(reader.prefix, 'only one of "source" and "sources" may be set');

  const destination = reader.string('destination');
  if (destination === undefined) ctx.problems.add(reader.path('destination'), 'the file provisioner needs "destination"', direction === 'upload' ? 'the path on the server, e.g. "/etc/motd"' : 'the local path to download to');

  // Uploads read local files (which must exist now); downloads read remote ones and write locally.
  const local = (file: string): string => resolveLocalPath(ctx.templateDir, file, ctx.home);
  const resolvedSources = written.map(({ path, file }) => {
    if (direction === 'download') return file;
    const absolute = local(file);
    checkLocalFile(ctx, path, file, absolute, 'file or directory');
    return absolute;
  });
  return {
    type: 'file',
    ...common,
    sources: resolvedSources,
    destination: destination === undefined ? '' : direction === 'download' ? local(destination) : destination,
    direction,
  };
}

