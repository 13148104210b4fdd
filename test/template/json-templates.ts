// JSON templates of the shapes kiln reads, which Packer 1.6.6 reads too: the oracle corpus of
// kiln inspect, kiln console and kiln hcl2_upgrade. A file provisioner's source is `motd`, which
// each test writes beside the template.
import { readFileSync } from 'node:fs';

const SOURCE = {
  access_key: 'SCWABCDEFGHIJKLMNOPQ',
  project_id: '11111111-2222-4333-8444-555555555555',
  image: 'ubuntu_jammy',
};

/** The secret the templates read from $KILN_TOKEN. */
export const KILN_TOKEN = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

const example = (name: string): unknown => {
  const template = JSON.parse(readFileSync(`examples/${name}`, 'utf8')) as { provisioners?: Array<Record<string, unknown>> };
  for (const p of template.provisioners ?? []) if (p.source === 'files/motd') p.source = 'motd';
  return template;
};

export const JSON_TEMPLATES: Record<string, unknown> = {
  'examples/basic.json': example('basic.json'),
  'examples/pro2-sbs.json': example('pro2-sbs.json'),
  'two builders': {
    variables: { zone: 'fr-par-1', token: '{{env `KILN_TOKEN`}}', size: 'DEV1-S' },
    'sensitive-variables': ['token'],
    builders: [
      { type: 'scaleway', name: 'small', ...SOURCE, secret_key: '{{user `token`}}', zone: '{{user `zone`}}', commercial_type: '{{user `size`}}', image_name: 'img-{{build_name}}-{{timestamp}}', remove_volume: 'false', user_data: { a: 'b' } },
      { type: 'scaleway', name: 'big', ...SOURCE, secret_key: '{{user `token`}}', zone: 'nl-ams-1', commercial_type: 'GP1-S', ssh_timeout: '10m', server_name: 'srv-{{uuid}}' },
    ],
    provisioners: [
      { type: 'shell', inline: ['echo {{build_name}}'], only: ['big'] },
      { type: 'file', source: 'motd', destination: '/etc/motd', timeout: '2m' },
      { type: 'shell', inline: ['echo three'], except: ['big'], max_retries: 2, environment_vars: ['A=1'] },
      { type: 'shell-local', inline: ['echo local'] },
    ],
  },
  'legacy keys': {
    variables: { api_token: '{{env `KILN_TOKEN`}}' },
    builders: [{ type: 'scaleway', api_access_key: 'SCWABCDEFGHIJKLMNOPQ', api_token: '{{user `api_token`}}', project_id: SOURCE.project_id, image: 'ubuntu_jammy', region: 'ams1', commercial_type: 'START1-S', ssh_username: 'root', boottype: 'local', snapshot_name: 'snap', image_name: 'img' }],
    provisioners: [{ type: 'shell', inline: ['echo legacy'], timeout: '5m' }],
  },
  'required and optional variables': {
    variables: { zone: null, size: 'DEV1-S', project: SOURCE.project_id, image_label: 'ubuntu_jammy' },
    builders: [{ type: 'scaleway', ...SOURCE, secret_key: KILN_TOKEN, project_id: '{{user `project`}}', image: '{{user `image_label`}}', zone: '{{user `zone`}}', commercial_type: '{{user `size`}}', ssh_username: 'root' }],
  },
  'description, no variables, no provisioners': {
    description: 'An image with nothing on it',
    builders: [{ type: 'scaleway', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-2', commercial_type: 'DEV1-S', ssh_username: 'root' }],
  },
  'named builders of different lengths': {
    builders: [
      { type: 'scaleway', name: 'a', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', image_name: 'img-a' },
      { type: 'scaleway', name: 'a-much-longer-name', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-1', commercial_type: 'DEV1-M', ssh_username: 'root', image_name: 'img-long' },
      { type: 'scaleway', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-1', commercial_type: 'DEV1-L', ssh_username: 'root', image_name: 'img-default' },
    ],
    provisioners: [{ type: 'shell', inline: ['echo {{build_name}} {{build_type}}'] }],
  },
  'empty and numeric defaults': {
    variables: { debug: 'true', empty: '', retries: '3', ratio: '1.5', zone: 'fr-par-1' },
    builders: [{ type: 'scaleway', ...SOURCE, secret_key: KILN_TOKEN, zone: '{{user `zone`}}', commercial_type: 'DEV1-S', ssh_username: 'root' }],
    provisioners: [{ type: 'shell', inline: ['echo debug={{user `debug`}} retries={{user `retries`}} ratio={{user `ratio`}}'] }],
  },
  'post-processors and selective provisioners': {
    variables: { name: 'web' },
    builders: [
      { type: 'scaleway', name: 'web', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', image_name: '{{user `name`}}-image' },
      { type: 'scaleway', name: 'db', ...SOURCE, secret_key: KILN_TOKEN, zone: 'fr-par-1', commercial_type: 'DEV1-M', ssh_username: 'root', image_name: 'db-image' },
    ],
    provisioners: [
      { type: 'shell', inline: ['apt-get update', 'apt-get install -y nginx'], only: ['web'] },
      { type: 'shell', script: 'setup.sh', except: ['web'] },
    ],
    'post-processors': [{ type: 'manifest', output: 'manifest.json', strip_path: true }, { type: 'shell-local', inline: ['echo done'] }],
  },
  'a volume and tags': {
    variables: { size: '20' },
    builders: [
      {
        type: 'scaleway',
        ...SOURCE,
        secret_key: KILN_TOKEN,
        zone: 'fr-par-1',
        commercial_type: 'PRO2-XXS',
        ssh_username: 'root',
        image_name: 'tagged',
        tags: ['web', 'base'],
        root_volume: { type: 'sbs_volume', size_in_gb: 20 },
        block_volume: [{ name: 'data', size_in_gb: 10 }, { name: 'logs', size_in_gb: 5 }],
      },
    ],
    provisioners: [{ type: 'shell', environment_vars: ['SIZE={{user `size`}}'], inline: ['echo "$SIZE"'] }],
  },
};
