// redactSpec: what the engine stores and kiln prints holds no secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builder, fixture, SECRET } from './helpers.js';
import { redactSpec, redactText } from '../../src/template/index.js';

const PASSWORD = 'correct horse battery staple';
const TOKEN = 'tok-9f8e7d6c5b4a';

async function loaded() {
  return fixture({
    variables: { token: TOKEN, plain: 'visible' },
    'sensitive-variables': ['token'],
    builders: [
      builder({
        ssh_password: PASSWORD,
        user_data: { 'cloud-init': '#!/bin/sh\necho {{user `token`}} > /root/token', [`key-{{user \`plain\`}}`]: 'fine' },
        server_tags: ['plain={{user `plain`}}', 'secret={{user `token`}}'],
      }),
    ],
    provisioners: [{ type: 'shell', inline: ['echo {{user `plain`}}', 'curl -H "X-Auth-Token: {{user `token`}}" https://example.test'], environment_vars: [`API=${SECRET}`, 'OTHER=ok'] }],
  }).load();
}

test('redactSpec hides the secret key, the SSH password and every string holding a sensitive value', async () => {
  const { builds, sensitiveValues } = await loaded();
  const spec = builds[0]!;
  assert.ok(sensitiveValues.includes(TOKEN) && sensitiveValues.includes(SECRET) && sensitiveValues.includes(PASSWORD));
  const redacted = redactSpec(spec);
  const json = JSON.stringify(redacted);
  for (const secret of [SECRET, PASSWORD, TOKEN]) assert.ok(!json.includes(secret), `redacted spec still holds ${secret}`);
  assert.equal(redacted.secretKey, '<sensitive>');
  assert.equal(redacted.communicator.type === 'ssh' && redacted.communicator.password, '<sensitive>');
  assert.deepEqual(redacted.serverTags, ['plain=visible', '<sensitive>']);
  assert.deepEqual(redacted.userData, { 'cloud-init': '<sensitive>', 'key-visible': 'fine' });
  const shell = redacted.provisioners[0]!;
  assert.deepEqual(shell.type === 'shell' && [shell.inline, shell.environmentVars], [['echo visible', '<sensitive>'], ['<sensitive>', 'OTHER=ok']]);
  assert.equal('sensitiveValues' in redacted, false);
  // Everything that is not secret survives, and the original is untouched.
  assert.equal(redacted.zone, spec.zone);
  assert.equal(spec.secretKey, SECRET);
  assert.deepEqual(JSON.parse(json), redacted, 'the copy is JSON-safe');
});

test('redactSpec also hides extra values passed to it', async () => {
  const { builds } = await fixture({ builders: [builder({ image_name: 'img-extra-secret' })] }).load();
  assert.equal(redactSpec(builds[0]!, ['extra-secret']).imageName, '<sensitive>');
});

test('redactText replaces each occurrence, longest secret first', () => {
  assert.equal(redactText('a abc b abc', ['ab', 'abc']), 'a <sensitive> b <sensitive>');
  assert.equal(redactText('nothing here', ['']), 'nothing here');
});
