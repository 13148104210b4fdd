// No secret in anything `kiln build` prints or stores: the secret key, a sensitive variable (even
// when a provisioner echoes it), with --json and --debug, on stdout, stderr and in the database,
// for JSON and HCL2 templates; and the same after `kiln resume`, which reads them again.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { startTestSimulator } from '../helpers/sim.js';

const SECRET_KEY = '5e5e5e5e-aaaa-4bbb-8ccc-0123456789ab';
const SENSITIVE = 'hunter2-do-not-print-me';

// The same build written as a JSON template and as an HCL2 template directory (whose auto
// var file holds a second sensitive value).
const TEMPLATES: Record<string, (sshPort: number) => Record<string, string>> = {
  JSON: (sshPort) => ({
    'template.json': JSON.stringify({
      variables: { db_password: null },
      'sensitive-variables': ['db_password'],
      builders: [{ type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_port: sshPort }],
      provisioners: [
        { type: 'shell', environment_vars: ['DB_PASSWORD={{user `db_password`}}'], inline: ['echo "the password is $DB_PASSWORD"'] },
      ],
    }),
  }),
  HCL2: (sshPort) => ({
    'build.pkr.hcl': `variable "db_password" {
  type      = string
  sensitive = true
}
variable "api_secret" {
  type      = string
  sensitive = true
}
source "scaleway" "sim" {
  image           = "ubuntu_jammy"
  zone            = "fr-par-1"
  commercial_type = "DEV1-S"
  ssh_port        = ${sshPort}
}
build {
  sources = ["source.scaleway.sim"]
  provisioner "shell" {
    environment_vars = ["DB_PASSWORD=\${var.db_password}"]
    inline           = ["echo \\"the password is $DB_PASSWORD and \${var.api_secret}\\""]
  }
}
`,
    'secrets.auto.pkrvars.hcl': `api_secret = "${AUTO_SECRET}"\n`,
  }),
};
const AUTO_SECRET = 'auto-var-file-secret-value';

/** A simulator, the language's template (a file, or a directory for HCL2), its secrets and the env to run kiln. */
async function secretsWorld(t: TestContext, language: string) {
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'kiln-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(TEMPLATES[language]!(sim.sshPort))) writeFileSync(join(dir, name), text);
  const template = language === 'JSON' ? join(dir, 'template.json') : dir;
  const secrets = language === 'JSON' ? [SECRET_KEY, SENSITIVE] : [SECRET_KEY, SENSITIVE, AUTO_SECRET];
  const db = join(dir, 'state', 'kiln.db');
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    SCW_API_URL: sim.apiUrl,
    SCW_SECRET_KEY: SECRET_KEY,
    SCW_DEFAULT_PROJECT_ID: '3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b',
  };
  return { dir, template, secrets, db, env };
}

function assertOutputHoldsNoSecret(r: KilnResult, label: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    assert.ok(!r.stdout.includes(secret), `${label}: stdout holds no secret`);
    assert.ok(!r.stderr.includes(secret), `${label}: stderr holds no secret`);
  }
}

/** The database's raw bytes (WAL and shared memory included) hold no secret. */
function assertDatabaseHoldsNoSecret(dir: string, secrets: readonly string[]): void {
  const files = readdirSync(join(dir, 'state')).filter((f) => f.startsWith('kiln.db'));
  assert.ok(files.includes('kiln.db'));
  for (const file of files) {
    const bytes = readFileSync(join(dir, 'state', file)).toString('latin1');
    for (const secret of secrets) assert.ok(!bytes.includes(secret), `${file} holds no secret`);
  }
}

for (const language of Object.keys(TEMPLATES)) {
  test(`kiln build --json --debug of a ${language} template leaks neither the secret key nor a sensitive variable, anywhere`, { timeout: 120_000 }, async (t) => {
    const { dir, template, secrets, db, env } = await secretsWorld(t, language);
    for (const mode of [['--json'], ['--debug']]) {
      const r = await runKiln(['build', ...mode, '--db', db, '--var', `db_password=${SENSITIVE}`, template], { env });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout + r.stderr, /the password is <sensitive>/, "the provisioner ran; its output is shown with the value masked");
      assertOutputHoldsNoSecret(r, mode.join(' '), secrets);
    }
    assertDatabaseHoldsNoSecret(dir, secrets);
  });

  test(`kiln resume of a ${language} build, which reads the secrets again, leaks none of them either`, { timeout: 120_000 }, async (t) => {
    const { dir, template, secrets, db, env } = await secretsWorld(t, language);
    // Each output mode resumes a build of its own, killed while provisioning: both resumes run the provisioner again.
    for (const mode of [['--json', '--debug'], []]) {
      const crashed = await runKiln(['build', '--json', '--db', db, '--var', `db_password=${SENSITIVE}`, template], {
        env: { ...env, KILN_CRASH_AT: 'provisioner.started' },
      });
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
      const id = (JSON.parse(crashed.stdout.split('\n')[0]!) as { buildId: string }).buildId;
      const r = await runKiln(['resume', id, ...mode, '--db', db, '--var', `db_password=${SENSITIVE}`], { env });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assertOutputHoldsNoSecret(r, `resume ${mode.join(' ')}`, secrets);
      assert.match(r.stdout, /the password is <sensitive>/, `resume ${mode.join(' ')}: the provisioner ran again, its output masked`);
    }
    assertDatabaseHoldsNoSecret(dir, secrets);
  });
}
