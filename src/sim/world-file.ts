// The world file: the simulated cloud kept as one JSON file (world.json in the state directory),
// so that a simulator started on the same directory finds its servers, disks and pending
// transitions again. Written whole after every change, atomically.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { WorldData } from './world.js';

/** A new world: nothing created yet, in a loopback range of its own. */
export function emptyWorld(): WorldData {
  // 127.0.x.x is left alone (127.0.0.1 is everyone's localhost); A and B random so that
  // parallel simulators do not collide.
  const a = 2 + Math.floor(Math.random() * 253);
  const b = Math.floor(Math.random() * 256);
  return { version: 1, subnet: [a, b], sequence: 0, servers: {}, volumes: {}, snapshots: {}, images: {}, ips: {}, pending: [], floors: {} };
}

/** The world a previous run left in `stateFile`, or undefined when there is none. */
export function loadWorld(stateFile: string): WorldData | undefined {
  if (!existsSync(stateFile)) return undefined;
  const data = JSON.parse(readFileSync(stateFile, 'utf8')) as WorldData;
  if (data.version !== 1) throw new Error(`${stateFile}: unknown world version ${String(data.version)}; move the state directory away to start afresh`);
  return data;
}

/** Writes the world atomically (temp file + rename): a crash leaves the old or the new world. */
export function saveWorld(stateFile: string, data: WorldData): void {
  const partial = `${stateFile}.partial`;
  writeFileSync(partial, JSON.stringify(data));
  renameSync(partial, stateFile);
}
