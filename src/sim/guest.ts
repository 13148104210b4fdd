// A simulated server's inside, its guest: what happens in it as it boots (systemd gives it a
// machine-id, cloud-init runs its user data) and its SSH endpoint, attached while it runs.
// Problems here do not fail the server: it runs, as a real one whose sshd failed would, and the
// log (and its state_detail) says why.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { installAuthorizedKeys } from './authorized-keys.js';
import { bootCloudInit } from './cloud-init.js';
import { readGuestFile, writeGuestFile } from './guest-files.js';
import { giveToGuest, type Disks } from './disk.js';
import { authorizedKeysOf, type ServerRecord } from './world.js';

/** What the simulation needs of src/sim/ssh.ts's SimSshGateway. */
export interface SshGatewayLike {
  readonly port: number;
  attach(server: { id: string; address: string; diskDir: string; mounts?: { source: string; target: string }[] }): Promise<void>;
  /** Runs a command inside an attached server, in the background, until it ends or the server stops (cloud-init at boot). */
  runInServer?(serverId: string, command: string): void;
  detach(serverId: string): Promise<void>;
  close(): Promise<void>;
}

export class Guests {
  constructor(
    private readonly gateway: SshGatewayLike,
    private readonly disks: Disks,
    private readonly log: (message: string) => void,
  ) {}

  /** The boot up to sshd: machine-id, the tags' SSH keys, cloud-init's boot stage, the SSH endpoint.
   *  Answers whether cloud-init's user-data stage must run once the server is running (once per instance). */
  async boot(server: ServerRecord): Promise<boolean> {
    await this.initMachineId(server);
    await this.installKeys(server);
    const runUserData = await this.bootCloudInit(server);
    // What was just written (and any disk made before guests ran as nobody) becomes the guest's.
    for (const volumeId of Object.values(server.volumes)) {
      await giveToGuest(this.disks.volumeDir(volumeId)).catch((error: Error) => this.log(`server ${server.id}: giving its disk to its root failed: ${error.message}`));
    }
    await this.attachSsh(server);
    return runUserData;
  }

  /** cloud-init's user-data stage, in the background inside the running server. */
  runUserData(serverId: string): void {
    this.gateway.runInServer?.(serverId, 'cloud-init modules --mode final');
  }

  async attachSsh(server: ServerRecord): Promise<void> {
    const rootVolumeId = server.volumes['0'];
    try {
      await this.gateway.attach({
        id: server.id,
        address: server.public_ip?.address ?? server.address,
        diskDir: rootVolumeId ? this.disks.volumeDir(rootVolumeId) : this.disks.noDisk,
        // Extra volumes appear inside the server at /mnt/vol<slot> (slot 1 → /mnt/vol1).
        mounts: Object.entries(server.volumes)
          .filter(([slot]) => slot !== '0')
          .map(([slot, volumeId]) => ({ source: this.disks.volumeDir(volumeId), target: `/mnt/vol${slot}` })),
      });
    } catch (error) {
      // The server still runs (as a real one whose sshd failed would); say why SSH is missing.
      server.state_detail = `ssh unavailable: ${(error as Error).message}`;
      this.log(`server ${server.id}: SSH endpoint failed: ${(error as Error).message}`);
    }
  }

  async detachSsh(serverId: string): Promise<void> {
    try {
      await this.gateway.detach(serverId);
    } catch (error) {
      this.log(`server ${serverId}: SSH detach failed: ${(error as Error).message}`);
    }
  }

  /** systemd at boot: an empty or missing /etc/machine-id gets a fresh id (this server's own). */
  private async initMachineId(server: ServerRecord): Promise<void> {
    const rootVolumeId = server.volumes['0'];
    if (!rootVolumeId) return;
    const disk = this.disks.volumeDir(rootVolumeId);
    try {
      const current = (await readGuestFile(disk, 'etc/machine-id')) ?? '';
      if (current.trim() === '') await writeGuestFile(disk, 'etc/machine-id', `${randomBytes(16).toString('hex')}\n`, 0o444);
    } catch (error) {
      this.log(`server ${server.id}: writing /etc/machine-id failed: ${(error as Error).message}`);
    }
  }

  /** The keys of the server's AUTHORIZED_KEY tags into root's authorized_keys, at each boot (authorized-keys.ts). */
  private async installKeys(server: ServerRecord): Promise<void> {
    const rootVolumeId = server.volumes['0'];
    if (!rootVolumeId) return;
    try {
      await installAuthorizedKeys(this.disks.volumeDir(rootVolumeId), authorizedKeysOf(server.tags));
    } catch (error) {
      this.log(`server ${server.id}: installing its SSH keys failed: ${(error as Error).message}`);
    }
  }

  /** cloud-init's boot: whether the user-data stage must run (once per instance). */
  private async bootCloudInit(server: ServerRecord): Promise<boolean> {
    const rootVolumeId = server.volumes['0'];
    if (!rootVolumeId) return false;
    try {
      return await bootCloudInit(this.disks.volumeDir(rootVolumeId), server.id, server.user_data['cloud-init']);
    } catch (error) {
      this.log(`server ${server.id}: cloud-init could not start: ${(error as Error).message}`);
      return false;
    }
  }
}
