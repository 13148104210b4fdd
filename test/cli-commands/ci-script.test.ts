// A CI script written for Packer, with `packer` replaced by `kiln`: `kiln init . && kiln fmt
// -check . && kiln validate . && kiln build .`, run by bash against the simulator. It builds an
// image; an unformatted file stops it at the lint stage (exit 3) before anything is built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../src/ssh/index.js';
import { cliArgv } from '../helpers/cli.js';
import { simulatedCloudForFile } from '../helpers/sim.js';

const SECRET = '5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b';
const PROJECT = '2b3c4d5e-6f70-4182-9304-a5b6c7d8e9f0';

const cloud = simulatedCloudForFile('kiln-ci-script-', { secretKey: SECRET, projectId: PROJECT });

const SCRIPT = 'set -e\nkiln init .\nkiln fmt -check .\nkiln validate .\nkiln build .\n';

function template(sshPort: number): string {
  return `packer {
  required_plugins {
    scaleway = {
      version = ">= 1.0.0"
      source  = "github.com/scaleway/scaleway"
    }
  }
}

variable "zone" {
  type    = string
  default = "fr-par-1"
}

source "scaleway" "ci" {
  image           = "ubuntu_jammy"
  zone            = var.zone
  commercial_type = "DEV1-S"
  ssh_username    = "root"
  ssh_port        = ${sshPort}
  image_name      = "ci-image"
}

build {
  sources = ["source.scaleway.ci"]

  provisioner "shell" {
    inline = ["echo built in CI > /etc/ci-release"]
  }
}
`;
}

/** Runs the script with bash in `dir`, `kiln` on PATH being this checkout's. */
function runScript(dir: string): Promise<{ code: number; output: string }> {
  const bin = join(dir, '..', `${dir.split('/').pop()}-bin`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'kiln'), `#!/bin/sh\nexec ${[process.execPath, ...cliArgv([])].map(shellQuote).join(' ')} "$@"\n`);
  chmodSync(join(bin, 'kiln'), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}`, HOME: cloud.dir, KILN_DB: join(dir, '..', `${dir.split('/').pop()}.db`), SCW_API_URL: cloud.sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  return new Promise((resolve) => {
    execFile('bash', ['-c', SCRIPT], { cwd: dir, env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

test('init, fmt -check, validate and build run as a CI script against the simulator', { timeout: 300_000 }, async () => {
  const dir = join(cloud.dir, 'formatted');
  mkdirSync(dir);
  writeFileSync(join(dir, 'build.pkr.hcl'), template(cloud.sim.sshPort));
  const result = await runScript(dir);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /kiln init: scaleway .*built into kiln/);
  assert.match(result.output, /build\.pkr\.hcl|\. is valid: 1 build/);
  assert.match(result.output, /An image was created: 'ci-image'/);
});

test('an unformatted file stops the script at the lint stage, exit 3, before anything is built', { timeout: 300_000 }, async () => {
  const dir = join(cloud.dir, 'messy');
  mkdirSync(dir);
  writeFileSync(join(dir, 'build.pkr.hcl'), template(cloud.sim.sshPort).replace('  image_name      = "ci-image"', 'image_name="ci-image"'));
  const result = await runScript(dir);
  assert.equal(result.code, 3, result.output);
  assert.match(result.output, /^build\.pkr\.hcl$/m);
  assert.doesNotMatch(result.output, /is valid|An image was created/);
});
