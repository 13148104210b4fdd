// The simulated images' `sudo`. A simulated server's only user is root (its user namespace maps
// one user), so sudo has nobody to switch to: it runs the command as it is, after reading the
// options real templates pass (`sudo -E`, `sudo -S sh -c '…'`, `sudo -u root`, `sudo -i`, …).
// Asking for another user fails and says why.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the simulator's own programs (sudo, cloud-init) live on its images: first on a guest's PATH (confine.ts), as the disk's /usr is the host's, read-only. */
export const SIM_BIN_DIR = '/opt/kiln-sim/bin';

const SUDO_SCRIPT = `#!/bin/sh
# kiln sim: sudo on a simulated server, where you are root already: runs the command as it is.
login=; shell=
is_root() { case "$1" in root|0|'#0') return 0 ;; *) return 1 ;; esac; }
other_user() {
  echo "sudo: kiln sim: a simulated server has only root, so -u/-g $1 cannot be honoured" >&2
  exit 1
}
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    --user=*) is_root "\${1#--user=}" || other_user "\${1#--user=}"; shift ;;
    --group=*) is_root "\${1#--group=}" || other_user "\${1#--group=}"; shift ;;
    --login) login=1; shift ;;
    --shell) shell=1; shift ;;
    --version) echo "Sudo version 1.9 (kiln sim: runs commands as root)"; exit 0 ;;
    --validate|--list|--reset-timestamp|--remove-timestamp) exit 0 ;;
    --*=*|--preserve-env|--non-interactive|--stdin|--set-home|--background|--askpass) shift ;;
    --help) echo "usage: sudo [-EHSn] [-u root] [-i|-s] command (kiln sim)"; exit 0 ;;
    -?*)
      flags=\${1#-}; shift
      while [ -n "$flags" ]; do
        flag=\${flags%"\${flags#?}"}; flags=\${flags#?}
        case "$flag" in
          u|g|p|C|U|r|t|T|D|R|h)
            # The value is the rest of this word, or the next argument.
            if [ -n "$flags" ]; then value=$flags; flags=; else value=$1; shift; fi
            case "$flag" in u|g|U) is_root "$value" || other_user "$value" ;; esac ;;
          i) login=1 ;;
          s) shell=1 ;;
          V) echo "Sudo version 1.9 (kiln sim: runs commands as root)"; exit 0 ;;
          v|l|k|K) [ $# -eq 0 ] && exit 0 ;;
          *) ;; # -E -H -S -n -b -A -P …: nothing to do as root
        esac
      done ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  if [ -n "$login$shell" ]; then exec /bin/sh -l; fi
  echo "usage: sudo [-EHSn] [-u root] [-i|-s] command" >&2
  exit 1
fi
if [ -n "$login" ]; then cd /root 2>/dev/null || true; fi
if [ -n "$login$shell" ]; then exec /bin/sh -c "$*"; fi
exec "$@"
`;

/** Installs `sudo` on a base disk (Linux images only). */
export async function installSudo(diskDir: string): Promise<void> {
  const dir = join(diskDir, SIM_BIN_DIR);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'sudo'), SUDO_SCRIPT, { mode: 0o755 });
}
