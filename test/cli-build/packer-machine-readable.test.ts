// `kiln build -machine-readable` against `packer build -machine-readable` (Packer 1.6.6, its own
// scaleway builder): the same template, run by each against the same simulator, in Packer's flag
// spellings. The lines a script parses (artifact-count, artifact, error-count, error) must agree
// field by field, ids and times aside.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { marketplaceImageId } from '../fixtures/sim-ssh/harness.js';
import { runKiln } from '../helpers/cli.js';
import { packerMissing as skip, runPacker } from '../helpers/packer.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';

const ZONE = 'fr-par-1';
// Packer's Scaleway SDK checks the credentials' formats before any request.
const SECRET_KEY = '3b6c1ab2-7f35-4a2c-9b1e-5d0c7e0a9f11';
const ACCESS_KEY = 'SCWKILNSIMTEST000000';
const PROJECT_ID = '6a0c2d6e-2f4a-4c7e-8a3b-1f9e8d7c6b5a';

/** One machine-readable line, split as Packer writes it: `timestamp,target,type,data…`. */
interface MachineLine {
  timestamp: string;
  target: string;
  type: string;
  data: string[];
}

function machineLines(stdout: string): MachineLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [timestamp, target, type, ...data] = line.split(',');
      return { timestamp: timestamp!, target: target!, type: type!, data };
    });
}

/** The lines a script parses (everything but `ui`), ids and the per-tool prefix replaced. */
function scriptLines(lines: MachineLine[], prefix: string): string[][] {
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  return lines
    .filter((l) => l.type !== 'ui')
    .map((l) => [l.target, l.type, ...l.data.map((d) => d.replaceAll(prefix, '<prefix>').replace(uuid, '<uuid>'))]);
}

describe('kiln build -machine-readable prints what packer build -machine-readable prints', { skip }, () => {
  let sim: Simulator;
  let workDir: string;
  let templateFile: string;

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-packer-machine-'));
    sim = await startTestSimulator();
    const builder = (name: string) => ({
      type: 'scaleway',
      name,
      api_url: sim.apiUrl,
      secret_key: SECRET_KEY,
      access_key: ACCESS_KEY,
      project_id: PROJECT_ID,
      image: '{{user `image`}}',
      zone: ZONE,
      commercial_type: 'DEV1-S',
      ssh_username: 'root',
      ssh_port: sim.sshPort,
      // Each tool names its images after -var prefix=…: both build in the same simulator.
      image_name: '{{user `prefix`}}-{{build_name}}',
      snapshot_name: '{{user `prefix`}}-{{build_name}}-snapshot',
    });
    const template = {
      variables: { prefix: '', image: '' },
      builders: [builder('one'), builder('two'), builder('three')],
      provisioners: [
        // A comma and a line on stderr: Packer's escaping and its ui error lines.
        { type: 'shell', inline: ['echo "a,b"', 'echo on stderr >&2'] },
        { type: 'shell', only: ['two'], inline: ['echo failing on purpose', 'exit 3'] },
      ],
    };
    templateFile = path.join(workDir, 'template.json');
    await fs.writeFile(templateFile, JSON.stringify(template, null, 2));
  });

  after(async () => {
    await sim?.close();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  });

  it('artifact and error lines agree field by field; ui lines escape commas', { timeout: 300_000 }, async () => {
    const image = await marketplaceImageId(sim, 'ubuntu_jammy', 'DEV1-S', ZONE);
    // Packer's spellings, the same for both: one dash, `=` or a space.
    const flags = (prefix: string) => ['-machine-readable', '-var', `prefix=${prefix}`, `-var=image=${image}`, '-except=three', '-on-error=cleanup'];
    // Sequentially: the machine has two cores, and each build has a server of its own anyway.
    const packer = await runPacker(['build', ...flags('packer'), templateFile], workDir);
    const kiln = await runKiln(['build', ...flags('kiln'), '--db', path.join(workDir, 'kiln.db'), templateFile]);

    assert.equal(packer.code, 1, `packer: one build fails on purpose\n${packer.stdout}${packer.stderr}`);
    assert.equal(kiln.code, 1, `kiln: one build fails on purpose\n${kiln.stdout}${kiln.stderr}`);

    const packerLines = machineLines(packer.stdout);
    const kilnLines = machineLines(kiln.stdout);
    for (const lines of [packerLines, kilnLines]) {
      for (const l of lines) {
        assert.match(l.timestamp, /^\d{10}$/, `a Unix timestamp first: ${JSON.stringify(l)}`);
        assert.ok(['ui', 'artifact-count', 'artifact', 'error-count', 'error'].includes(l.type), `a type scripts know: ${l.type}`);
      }
    }
    // Both escape the provisioner's comma the same way, in a ui message line.
    for (const lines of [packerLines, kilnLines]) {
      assert.ok(lines.some((l) => l.type === 'ui' && l.data[0] === 'message' && l.data[1]!.endsWith('one: a%!(PACKER_COMMA)b')), 'the comma is escaped');
      // And each build's last line, which logs are searched for.
      assert.ok(lines.some((l) => l.type === 'ui' && l.data[0] === 'say' && /^Build 'one' finished after \d+ [a-z]+( \d+ [a-z]+)?\.$/.test(l.data[1]!)));
      assert.ok(lines.some((l) => l.type === 'ui' && l.data[0] === 'error' && /^Build 'two' errored after .+: .*3/.test(l.data[1]!)));
    }

    // What scripts parse, in the order they come; `artifact` lines per build, then the build's next.
    const order = (lines: string[][]) => [...lines].sort((a, b) => (a[0] === b[0] ? 0 : a[0]! < b[0]! ? -1 : 1));
    const fromPacker = scriptLines(packerLines, 'packer');
    const fromKiln = scriptLines(kilnLines, 'kiln');
    // The error text is each tool's own ("Script exited with non-zero exit status: 3…"): compare its presence.
    const withoutErrorText = (lines: string[][]) => lines.map((l) => (l[1] === 'error' ? [l[0]!, 'error', l.length > 2 ? '<text>' : ''] : l));
    assert.deepEqual(order(withoutErrorText(fromKiln)), order(withoutErrorText(fromPacker)));
    assert.deepEqual(
      fromKiln.filter((l) => l[1] === 'artifact').map((l) => l.join(',')),
      [
        'one,artifact,0,builder-id,hashicorp.scaleway',
        'one,artifact,0,id,fr-par-1:<uuid>',
        "one,artifact,0,string,An image was created: '<prefix>-one' (ID: <uuid>) in zone 'fr-par-1' based on snapshot '<prefix>-one-snapshot' (ID: <uuid>)",
        'one,artifact,0,files-count,0',
        'one,artifact,0,end',
      ],
    );
    assert.match(fromKiln.find((l) => l[1] === 'error')!.join(','), /^two,error,.*exit.*3/, 'the error names the exit status');

    // The image id a script picks up is a real image, named as the template says.
    const imageId = /,one,artifact,0,id,fr-par-1:(\S+)/.exec(kiln.stdout)![1]!;
    const response = await fetch(`${sim.apiUrl}/instance/v1/zones/${ZONE}/images/${imageId}`, { headers: { 'X-Auth-Token': SECRET_KEY } });
    assert.equal(((await response.json()) as { image: { name: string } }).image.name, 'kiln-one');
    // kiln's own events (--json) are not mixed in: every stdout line is Packer's format.
    assert.ok(!/^\{/m.test(kiln.stdout));
  });
});
