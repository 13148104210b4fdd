// `kiln build --sim` with a template whose provisioner tries what published templates do to a
// machine (swap, kernel settings, a network link, the hostname, a mount), through `sudo` as they
// do: the build runs, the simulated server keeps its changes to itself, and the host is as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { runKiln } from '../helpers/cli.js';
import { hostState } from '../helpers/host-state.js';

test('a --sim build whose provisioner tries to change the machine changes only its simulated server', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sim-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const link = `kiln${randomUUID().slice(0, 8)}`;
  const before = hostState(link);
  const inline = [
    // Each attempt says whether it was refused; the build goes on (inline commands run under `sh -e`).
    `sudo ip link add ${link} type dummy && echo "attempt link done" || echo "attempt link refused"`,
    'sudo sysctl -w vm.swappiness=3 && echo "attempt sysctl done" || echo "attempt sysctl refused"',
    'echo 1 | sudo tee /proc/sys/net/ipv4/ip_forward && echo "attempt ip_forward done" || echo "attempt ip_forward refused"',
    'sudo hostname kiln-renamed && echo "attempt hostname done" || echo "attempt hostname refused"',
    'sudo mount -t tmpfs kiln-planted /mnt && echo "attempt mount done" || echo "attempt mount refused"',
    'sudo dd if=/dev/zero of=/swapfile bs=64k count=16 && sudo mkswap /swapfile && sudo swapon /swapfile && echo "attempt swapon done" || echo "attempt swapon refused"',
    'echo "sudo runs as uid $(sudo -E sh -c \'id -u\')"',
  ];
  const template = join(dir, 'host.json');
  const builder = { type: 'scaleway', image: 'debian_bookworm', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root' };
  writeFileSync(template, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline }] }));

  const r = await runKiln(['build', '--sim', '--db', join(dir, 'kiln.db'), template]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /sudo runs as uid 0/);
  for (const attempt of ['link', 'sysctl', 'hostname', 'mount', 'swapon']) {
    assert.match(r.stdout, new RegExp(`attempt ${attempt} refused`), `refused inside the server: ${attempt}`);
  }
  assert.deepEqual(hostState(link), before, 'the host is as it was');
});

test('a --sim build that fails on apt-get says the simulated servers have no package mirror', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sim-apt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const template = join(dir, 'apt.json');
  // debian_trixie and ubuntu_noble: labels Scaleway offers today.
  const builder = { type: 'scaleway', image: 'debian_trixie', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root' };
  writeFileSync(template, JSON.stringify({ builders: [builder], provisioners: [{ type: 'shell', inline: ['. /etc/os-release; echo "on $PRETTY_NAME"', 'sudo apt-get install -y nginx'] }] }));

  const r = await runKiln(['build', '--sim', '--db', join(dir, 'kiln.db'), template]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stdout, /on Debian GNU\/Linux 13 \(trixie\)/);
  assert.match(r.stderr, /The simulated servers have no network and no package mirror/);
});
