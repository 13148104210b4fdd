// What `kiln build --sim` adds when a provisioner fails on a package manager: the simulated servers
// have no network, so no package mirror, and a template that installs packages cannot pass there.
import type { BuildOutcome } from '../../engine/index.js';

// A package manager named in the failure (its "not found", or its own name), or apt's "E: " lines.
const PACKAGE_MANAGER_FAILURE = /\b(apt-get|apt|aptitude|dpkg|dnf|yum|zypper|apk)\b|^\s*\|?\s*E: /m;

/** The notice for a --sim build that failed in a provisioner on a package manager, else undefined. */
export function simPackageNotice(outcome: BuildOutcome): string | undefined {
  const failure = outcome.failure;
  if (outcome.status !== 'failed' || !failure || !failure.phase.startsWith('provision')) return undefined;
  if (!PACKAGE_MANAGER_FAILURE.test(failure.error.message)) return undefined;
  return (
    'kiln sim: the provisioner failed on a package manager. The simulated servers have no network and no package mirror, ' +
    'so apt-get, apt, dnf and yum cannot install anything there. --sim tries kiln itself and the shape of a template ' +
    '(its keys, variables, files, and the commands that need no network); run the build against Scaleway to install packages.'
  );
}
