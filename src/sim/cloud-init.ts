// cloud-init, as the simulator's Linux images carry it (a small POSIX sh program on the disk, run
// confined like everything on a server): at boot the simulator hands it the server's `cloud-init`
// user data, which it runs once per instance when it is a script (`#!…`), logging to
// /var/log/cloud-init-output.log; `cloud-init status [--long] [--wait]` reports it the way
// cloud-init 23+ does (`status: running|done|error`, exit 1 on error).
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SIM_BIN_DIR } from './sudo.js';
import { makeGuestDir, readGuestFile, writeGuestFile } from './guest-files.js';

/** Where images keep the program (on the guest PATH; the disk's /usr is the host's, read-only). */
export const CLOUD_INIT_PATH = `${SIM_BIN_DIR}/cloud-init`;

const DATA = '/var/lib/cloud/data';
const USER_DATA = '/var/lib/cloud/instance/user-data.txt';

export const CLOUD_INIT_SCRIPT = `#!/bin/sh
# cloud-init (kiln simulator): runs the instance's user-data script once per instance and reports it.
data=${DATA}
user_data=${USER_DATA}
log=/var/log/cloud-init-output.log
set_status() { printf '%s\\n' "$1" > "$data/status.tmp" && mv "$data/status.tmp" "$data/status"; }
case "$1" in
  status)
    shift
    long=; wait=
    for arg in "$@"; do
      case "$arg" in
        --long|-l) long=1 ;;
        --wait|-w) wait=1 ;;
        *) echo "cloud-init status: unknown option $arg" >&2; exit 2 ;;
      esac
    done
    while :; do
      state=$(cat "$data/status" 2>/dev/null || echo 'not started')
      if [ -n "$wait" ] && { [ "$state" = running ] || [ "$state" = 'not started' ]; }; then sleep 1; continue; fi
      break
    done
    echo "status: $state"
    if [ -n "$long" ]; then
      echo "extended_status: $state"
      echo 'boot_status_code: enabled-by-sysvinit'
      echo "last_update: $(date -u -r "$data/status" 2>/dev/null || echo never)"
      echo 'detail:'
      echo 'DataSourceScaleway'
      if [ "$state" = error ]; then
        echo 'errors:'
        sed 's/^/\\t- /' "$data/errors"
      else
        echo 'errors: []'
      fi
    fi
    [ "$state" = error ] && exit 1
    exit 0
    ;;
  modules)
    # The final stage: scripts_user runs the user data when it is a script.
    mkdir -p /var/lib/cloud/instance/scripts
    if [ -f "$user_data" ] && [ "$(head -c 2 "$user_data")" = '#!' ]; then
      part=/var/lib/cloud/instance/scripts/part-001
      cp "$user_data" "$part" && chmod 700 "$part"
      "$part" >> "$log" 2>&1
      code=$?
      if [ "$code" -ne 0 ]; then
        echo "('scripts_user', RuntimeError('Runparts: 1 failures (part-001, exit $code) in /var/lib/cloud/instance/scripts'))" > "$data/errors"
        set_status error
        exit 1
      fi
    fi
    set_status done
    ;;
  *)
    echo "usage: cloud-init status [--long] [--wait]" >&2
    exit 2
    ;;
esac
`;

/** Installs the program on a base disk (Linux images only; Windows has no cloud-init). */
export async function installCloudInit(diskDir: string): Promise<void> {
  const dir = join(diskDir, SIM_BIN_DIR);
  await mkdir(dir, { recursive: true });
  await writeFile(join(diskDir, CLOUD_INIT_PATH), CLOUD_INIT_SCRIPT, { mode: 0o755 });
}

/**
 * Boot, host side, before the server answers SSH: records the instance and its user data and says
 * whether the user-data stage must run (`cloud-init modules`). Once per instance: a reboot, or a
 * server made from an image of this one, runs only what it has not run yet.
 */
export async function bootCloudInit(diskDir: string, instanceId: string, userData: string | undefined): Promise<boolean> {
  if (!existsSync(join(diskDir, CLOUD_INIT_PATH))) return false;
  // The guest owns these directories: guest-files.ts neither reads nor writes through its links.
  await makeGuestDir(diskDir, DATA);
  await makeGuestDir(diskDir, '/var/lib/cloud/instance');
  const previous = (await readGuestFile(diskDir, `${DATA}/instance-id`)) ?? '';
  const status = ((await readGuestFile(diskDir, `${DATA}/status`)) ?? '').trim();
  if (previous.trim() === instanceId && (status === 'done' || status === 'error')) return false;
  await writeGuestFile(diskDir, `${DATA}/instance-id`, `${instanceId}\n`);
  await writeGuestFile(diskDir, USER_DATA, userData ?? '', 0o600);
  await writeGuestFile(diskDir, `${DATA}/status.tmp`, 'running\n');
  // rename replaces a link named `status`; it never writes through one.
  await rename(join(diskDir, DATA, 'status.tmp'), join(diskDir, DATA, 'status'));
  return true;
}
