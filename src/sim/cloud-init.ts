// cloud-init, as the simulator's Linux images carry it (a small POSIX sh program on the disk, run
// confined like everything on a server): at boot the simulator hands it the server's `cloud-init`
// user data, once per instance. A script (`#!…`) runs as scripts_user runs it; `#cloud-config`
// runs as the modules cloud-config.ts makes of it, in cloud-init's order, then scripts_user (its
// runcmd). Everything is logged to /var/log/cloud-init-output.log. `cloud-init status [--long]
// [--wait]` reports it as cloud-init 24 does: `status: running|done|error`, `extended_status` with
// `degraded` when there were warnings, the errors and recoverable errors, exit 1 on an error and 2
// when degraded.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SIM_BIN_DIR } from './sudo.js';
import { makeGuestDir, readGuestFile, removeGuestPath, writeGuestFile } from './guest-files.js';
import { isCloudConfig, MODULE_ERROR_FILE, planCloudConfig } from './cloud-config.js';

/** Where images keep the program (on the guest PATH; the disk's /usr is the host's, read-only). */
export const CLOUD_INIT_PATH = `${SIM_BIN_DIR}/cloud-init`;

const DATA = '/var/lib/cloud/data';
const INSTANCE = '/var/lib/cloud/instance';
const USER_DATA = `${INSTANCE}/user-data.txt`;
/** One program per cloud-config module, `NN-<module>`, run in name order. */
const MODULES = `${INSTANCE}/modules`;

export const CLOUD_INIT_SCRIPT = `#!/bin/sh
# cloud-init (kiln simulator): applies the instance's user data once per instance and reports it.
data=${DATA}
instance=${INSTANCE}
user_data=${USER_DATA}
log=/var/log/cloud-init-output.log
set_status() { printf '%s\\n' "$1" > "$data/status.tmp" && mv "$data/status.tmp" "$data/status"; }
add_error() { printf '%s\\n' "$1" >> "$data/errors"; }
list() { if [ -s "$1" ]; then printf '\\n'; sed 's/^/\\t- /' "$1"; else printf ' %s\\n' "$2"; fi; }
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
    condition=healthy; shown=$state; extended=$state
    if [ -s "$data/errors" ]; then condition=error; shown=error; extended="error - $state"
    elif [ -s "$data/recoverable" ] && { [ "$state" = done ] || [ "$state" = running ]; }; then condition=degraded; extended="degraded $state"; fi
    echo "status: $shown"
    if [ -n "$long" ]; then
      echo "extended_status: $extended"
      echo 'boot_status_code: enabled-by-sysvinit'
      [ -f "$data/status" ] && echo "last_update: $(date -u -r "$data/status" '+%a, %d %b %Y %H:%M:%S +0000')"
      echo 'detail: DataSourceScaleway'
      printf 'errors:'; list "$data/errors" '[]'
      if [ -s "$data/recoverable" ]; then printf 'recoverable_errors:\\nWARNING:'; list "$data/recoverable"; else echo 'recoverable_errors: {}'; fi
    fi
    [ "$condition" = error ] && exit 1
    [ "$condition" = degraded ] && exit 2
    exit 0
    ;;
  modules)
    mkdir -p "$instance/scripts"
    # cloud-config: each module in turn; a failing one leaves its error line in ${MODULE_ERROR_FILE}.
    for module in "$instance"/modules/*; do
      [ -f "$module" ] || continue
      name=\${module##*/}; name=\${name#*-}
      rm -f ${MODULE_ERROR_FILE}
      if ! /bin/sh "$module" >> "$log" 2>&1; then
        if [ -s ${MODULE_ERROR_FILE} ]; then add_error "$(cat ${MODULE_ERROR_FILE})"; else add_error "('$name', RuntimeError('module $name failed'))"; fi
      fi
    done
    # scripts_user: the user data when it is a script, and runcmd's.
    if [ -f "$user_data" ] && [ "$(head -c 2 "$user_data")" = '#!' ]; then
      cp "$user_data" "$instance/scripts/part-001" && chmod 700 "$instance/scripts/part-001"
    fi
    attempted=0; failed=
    for script in "$instance"/scripts/*; do
      [ -f "$script" ] && [ -x "$script" ] || continue
      attempted=$((attempted + 1))
      "$script" >> "$log" 2>&1 || failed="\${failed:+$failed,}\${script##*/}"
    done
    if [ -n "$failed" ]; then
      count=$(printf '%s\\n' "$failed" | tr ',' '\\n' | wc -l)
      add_error "('scripts_user', RuntimeError('Runparts: $count failures ($failed) in $attempted attempted commands'))"
    fi
    set_status done
    [ -s "$data/errors" ] && exit 1
    exit 0
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
 * Boot, host side, before the server answers SSH: records the instance and its user data, with the
 * programs of its cloud-config modules, and says whether the user-data stage must run
 * (`cloud-init modules`). Once per instance: a reboot, or a server made from an image of this one,
 * runs only what it has not run yet; a new instance starts from a clean slate.
 */
export async function bootCloudInit(diskDir: string, instanceId: string, userData: string | undefined): Promise<boolean> {
  if (!existsSync(join(diskDir, CLOUD_INIT_PATH))) return false;
  // The guest owns these directories: guest-files.ts neither reads, writes nor removes through its links.
  await makeGuestDir(diskDir, DATA);
  await makeGuestDir(diskDir, INSTANCE);
  const previous = (await readGuestFile(diskDir, `${DATA}/instance-id`)) ?? '';
  const status = ((await readGuestFile(diskDir, `${DATA}/status`)) ?? '').trim();
  if (previous.trim() === instanceId && (status === 'done' || status === 'error')) return false;
  // What an earlier instance (the one the image was made from) ran is not this one's.
  for (const stale of [MODULES, `${INSTANCE}/scripts`, `${INSTANCE}/boothooks`, `${DATA}/errors`, `${DATA}/recoverable`, MODULE_ERROR_FILE]) {
    await removeGuestPath(diskDir, stale);
  }
  await writeGuestFile(diskDir, `${DATA}/instance-id`, `${instanceId}\n`);
  await writeGuestFile(diskDir, USER_DATA, userData ?? '', 0o600);
  await writePlan(diskDir, userData ?? '');
  await writeGuestFile(diskDir, `${DATA}/status.tmp`, 'running\n');
  // rename replaces a link named `status`; it never writes through one.
  await rename(join(diskDir, DATA, 'status.tmp'), join(diskDir, DATA, 'status'));
  return true;
}

/** The programs of a cloud-config's modules and its warnings; other user data cloud-init cannot handle is a warning. */
async function writePlan(diskDir: string, userData: string): Promise<void> {
  let warnings: string[] = [];
  if (isCloudConfig(userData)) {
    const plan = planCloudConfig(userData);
    warnings = plan.warnings;
    await makeGuestDir(diskDir, MODULES);
    for (const [i, module] of plan.modules.entries()) {
      await writeGuestFile(diskDir, `${MODULES}/${String(i + 1).padStart(2, '0')}-${module.name}`, `${module.script}\n`, 0o700);
    }
  } else if (userData.trim() !== '' && !userData.startsWith('#!')) {
    const start = userData.split('\n')[0]!.slice(0, 24);
    warnings = [`Unhandled non-multipart (text/x-not-multipart) userdata: '${start}...'`];
  }
  if (warnings.length > 0) await writeGuestFile(diskDir, `${DATA}/recoverable`, `${warnings.map((w) => w.replace(/\n/g, ' ')).join('\n')}\n`);
}
