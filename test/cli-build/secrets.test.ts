// No secret in anything `kiln build` prints or stores: the secret key, a sensitive variable (even
// when a provisioner echoes it), with --json and --debug, on stdout, stderr and in the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../helpers/cli.js';
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

for (const [language, files] of Object.entries(TEMPLATES)) {
  test(`kiln build --json --debug of a ${language} template leaks neither the secret key nor a sensitive variable, anywhere`, { timeout: 120_000 }, async (t) => {
    const sim = await startTestSimulator();
    t.after(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), 'kiln-secrets-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const written = files(sim.sshPort);
    for (const [name, text] of Object.entries(written)) writeFileSync(join(dir, name), text);
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
    for (const mode of [['--json'], ['--debug']]) {
      const r = await runKiln(['build', ...mode, '--db', db, '--var', `db_password=${SENSITIVE}`, template], { env });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout + r.stderr, /the password is <sensitive>/, "the provisioner ran; its output is shown with the value masked");
      for (const secret of secrets) {
        assert.ok(!r.stdout.includes(secret), `${mode}: stdout holds no secret`);
        assert.ok(!r.stderr.includes(secret), `${mode}: stderr holds no secret`);
      }
    }
    for (const file of readdirSync(join(dir, 'state')).filter((f) => f.startsWith('kiln.db'))) {
      const bytes = readFileSync(join(dir, 'state', file)).toString('latin1');
      for (const secret of secrets) assert.ok(!bytes.includes(secret), `${file} holds no secret`);
    }
  });
}
