// Which optional phases (OPTIONAL_PHASES) a build runs: the one rule the machine's input and the
// resume point both follow.
import type { PhaseName } from '../../../machines/phases.js';
import type { BuildSpec } from '../../template/spec.js';

/** The keys are optional so that partial specs (tests, older callers) mean "none of these". */
export type OptionalPhaseSpec = Pick<BuildSpec, 'communicator'> &
  Partial<Pick<BuildSpec, 'blockVolumes' | 'rootVolume' | 'privateNetworkIds' | 'userData' | 'userDataTimeoutMs' | 'cleanupMachineRelatedData' | 'postProcessors'>>;

export function optionalPhasesOf(spec: OptionalPhaseSpec): PhaseName[] {
  const phases: PhaseName[] = [];
  // Extra block volumes are made before the server.
  if ((spec.blockVolumes ?? []).length > 0) phases.push('volumes.create');
  if (spec.rootVolume?.iops !== undefined) phases.push('volumes.iops');
  if ((spec.privateNetworkIds ?? []).length > 0) phases.push('network.attach');
  // With SSH kiln asks cloud-init whenever there is user data; without, it waits only if told how long.
  const ssh = spec.communicator.type === 'ssh';
  if ((spec.userDataTimeoutMs ?? 0) > 0 || (ssh && Object.keys(spec.userData ?? {}).length > 0)) phases.push('user_data.wait');
  // machine.cleanup also takes a temporary SSH key out of authorized_keys before the snapshot.
  const temporaryKey = spec.communicator.type === 'ssh' && !spec.communicator.privateKeyFile;
  if (ssh && (spec.cleanupMachineRelatedData || temporaryKey)) phases.push('machine.cleanup');
  if ((spec.postProcessors ?? []).length > 0) phases.push('postprocess');
  return phases;
}
