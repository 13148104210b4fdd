// Real Ansible for tests: whether ansible-playbook is here, and a playbook project written to a
// directory — a role with a template and a handler, a second role packed as a tarball for
// ansible-galaxy to install from a local path (no network).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Why the Ansible tests cannot run here, or undefined when they can. */
export function ansibleUnavailableReason(): string | undefined {
  try {
    execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore', timeout: 120_000 });
    return undefined;
  } catch {
    return 'ansible-playbook is not installed (Debian: apt-get install ansible-core; .ci/run installs it)';
  }
}

export interface PlaybookProject {
  dir: string;
  playbook: string;
  /** A requirements file installing the `packed` role from `tarball` (a file:// URL, as written). */
  requirements: string;
  tarball: string;
}

/**
 * The project: `playbook.yml` runs on `hosts` the role `web` (a template naming the host, its
 * groups, `greeting` and the controller's KILN_ANSIBLE_MARK; a handler it notifies) and the role
 * `packed` (from the galaxy tarball). Everything is written below `{{ dest }}`.
 * `tarballUrl`: where the requirements file says the tarball is (defaults to its local path).
 */
export function writePlaybookProject(dir: string, options: { hosts: string; tarballUrl?: string; failing?: boolean }): PlaybookProject {
  const file = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  file('roles/web/tasks/main.yml', '- name: motd from a template\n  template: { src: motd.j2, dest: "{{ dest }}/motd" }\n  notify: motd changed\n');
  file('roles/web/templates/motd.j2', "{{ greeting }} from {{ inventory_hostname }} in {{ group_names | join(',') }}, mark={{ lookup('env', 'KILN_ANSIBLE_MARK') }}\n");
  file('roles/web/handlers/main.yml', '- name: motd changed\n  copy: { dest: "{{ dest }}/handler", content: "ran\\n" }\n');
  const packed = join(dir, 'src');
  file('src/packed/tasks/main.yml', '- name: the galaxy role\n  copy: { dest: "{{ dest }}/packed", content: "installed by ansible-galaxy\\n" }\n');
  file('src/packed/meta/main.yml', "galaxy_info: { author: kiln, description: test role, license: MIT, min_ansible_version: '2.9', platforms: [] }\ndependencies: []\n");
  const tarball = join(dir, 'packed.tar.gz');
  execFileSync('tar', ['-C', packed, '-czf', tarball, 'packed']);
  file('requirements.yml', `- src: ${options.tarballUrl ?? `file://${tarball}`}\n  name: packed\n`);
  const failing = options.failing ? '  tasks:\n    - name: a task that fails\n      fail: { msg: "kiln-broken-on-purpose" }\n' : '';
  file('playbook.yml', `- hosts: ${options.hosts}\n  gather_facts: false\n  roles: [web, packed]\n${failing}`);
  return { dir, playbook: join(dir, 'playbook.yml'), requirements: join(dir, 'requirements.yml'), tarball };
}
