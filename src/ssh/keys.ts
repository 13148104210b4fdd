// Temporary SSH key pairs for a build, and the Scaleway tag that installs the public key.
import { loadSsh2 } from './library.js';

export interface KeyPair {
  /** OpenSSH-format private key (SECRET: store 0600, never log). */
  privateKey: string;
  /** An authorized_keys line: `ssh-ed25519 AAAA… kiln`. */
  publicKey: string;
}

/** Makes a fresh ed25519 key pair (Packer makes RSA; ed25519 is smaller and accepted everywhere we boot). */
export function generateKeyPair(comment = 'kiln'): KeyPair {
  // ssh2 1.17 drops a leading zero byte of an ed25519 key's public part (about 1 key in 200),
  // producing a key that its own parser and every SSH server reject: draw again until it parses.
  const ssh2 = loadSsh2();
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) {
      return { privateKey: pair.private, publicKey: pair.public.trim() };
    }
  }
}

/**
 * The server tag Scaleway's images read to install a key: `AUTHORIZED_KEY=<type>_<base64>[_<comment>]`.
 * Tags cannot hold spaces, so Scaleway (and Packer) write them as underscores.
 */
export function authorizedKeyTag(publicKey: string): string {
  const line = publicKey.trim();
  if (!/^(ssh-|ecdsa-)\S+ \S+/.test(line)) {
    throw new Error(`authorizedKeyTag: expected an authorized_keys line such as "ssh-ed25519 AAAA… comment", got "${line.slice(0, 40)}"`);
  }
  return `AUTHORIZED_KEY=${line.replace(/\s+/g, '_')}`;
}

/** The authorized_keys line of a private key (the user's `ssh_private_key_file`), or undefined if it cannot be parsed. */
export function publicKeyOf(privateKey: string, comment = 'kiln'): string | undefined {
  const parsed = loadSsh2().utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
}
