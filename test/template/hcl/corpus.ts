// The oracle corpus: HCL2 templates within what Packer 1.6.6 supports, valid and invalid. Each
// case is a directory of files; `packer validate`/`inspect` and kiln must agree on it (see
// oracle.test.ts). Invalid cases hold one mistake each, so "the first error" is the same one.
export interface CorpusCase {
  name: string;
  files: Record<string, string>;
  vars?: Record<string, string>;
  /** Relative to the case's directory. */
  varFiles?: string[];
  env?: Record<string, string>;
  /** The template is a file of the directory rather than the directory. */
  file?: string;
  /** Lines either of which Packer may name first: where it evaluates in Go's random map order (a
   * cycle of locals is reported at whichever local it happened to start from). */
  anyOfLines?: number[];
}

export const SECRET_KEY = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

/** A scaleway source both Packer 1.6.6 and kiln accept; `extra` lines go inside it. */
export function source(name = 'base', extra = ''): string {
  return `source "scaleway" "${name}" {
  access_key      = "SCWABCDEFGHIJKLMNOPQ"
  secret_key      = "${SECRET_KEY}"
  project_id      = "11111111-2222-4333-8444-555555555555"
  zone            = "fr-par-1"
  image           = "ubuntu_jammy"
  commercial_type = "DEV1-S"
  ssh_username    = "root"
${extra}}
`;
}

const build = (provisioners = '  provisioner "shell" {\n    inline = ["echo hi"]\n  }\n', sources = '["source.scaleway.base"]'): string => `build {
  sources = ${sources}
${provisioners}}
`;

const one = (text: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'build.pkr.hcl': text, ...extra });

export const CORPUS: CorpusCase[] = [
  // ---- valid ----
  { name: 'basic', files: one(source() + build()) },
  { name: 'typed variables', files: one(`variable "s" {\n  type    = string\n  default = "x"\n}\nvariable "n" {\n  type    = number\n  default = "42"\n}\nvariable "b" {\n  type    = bool\n  default = "true"\n}\nvariable "l" {\n  type    = list(string)\n  default = ["a", 1]\n}\nvariable "m" {\n  type    = map(number)\n  default = { a = 1, b = "2" }\n}\n${source()}${build()}`) },
  { name: 'untyped variables', files: one(`variable "a" {\n  default = "x"\n}\nvariable "b" {\n  default = [1, "two", true]\n}\nvariable "c" {\n  default = { k = "v" }\n}\n${source()}${build()}`) },
  { name: 'locals out of order', files: one(`locals {\n  full = "\${local.stem}-\${local.n * 2}"\n  stem = upper("img")\n  n    = 21\n}\n${source()}${build()}`) },
  { name: 'local blocks and locals blocks', files: one(`locals {\n  a = "x"\n}\nlocals {\n  b = "\${local.a}y"\n}\n${source()}${build()}`) },
  { name: 'two builds in one file', files: one(source('one') + source('two') + build(undefined, '["source.scaleway.one"]') + build(undefined, '["source.scaleway.two"]')) },
  { name: 'nested source with name override', files: one(`${source()}build {\n  source "source.scaleway.base" {\n    name       = "big"\n    image_name = "big-image"\n  }\n  provisioner "shell" {\n    inline = ["echo \${source.name}"]\n  }\n}\n`) },
  { name: 'provisioner order shell file shell', files: one(source() + build('  provisioner "shell" {\n    inline = ["one"]\n  }\n  provisioner "file" {\n    source      = "motd"\n    destination = "/etc/motd"\n  }\n  provisioner "shell" {\n    inline = ["three"]\n  }\n'), { motd: 'hello\n' }) },
  { name: 'heredoc inline script', files: one(source() + build('  provisioner "shell" {\n    inline = [<<-EOT\n      echo one\n      echo two\n    EOT\n    ]\n  }\n')) },
  { name: 'template directives', files: one(`variable "pkgs" {\n  default = ["curl", "git"]\n}\nlocals {\n  script = "%{ for p in var.pkgs }install \${p}\\n%{ endfor }"\n  flag   = "%{ if length(var.pkgs) > 1 }many%{ else }few%{ endif }"\n  strip  = "a %{~ if true ~} b %{~ endif ~} c"\n}\n${source()}${build()}`) },
  { name: 'for expressions and splats', files: one(`variable "users" {\n  default = [{ name = "a", admin = true }, { name = "b", admin = false }]\n}\nlocals {\n  names  = var.users[*].name\n  admins = [for u in var.users : u.name if u.admin]\n  by     = { for u in var.users : u.name => u.admin }\n}\n${source()}${build()}`) },
  { name: 'conditionals and operators', files: one(`variable "debug" {\n  type    = bool\n  default = false\n}\nlocals {\n  size = var.debug ? "DEV1-S" : "PRO2-XXS"\n  math = (1 + 2) * 3 % 4 - -1\n  cmp  = 1 < 2 && !var.debug || false\n}\n${source()}${build()}`) },
  { name: 'string functions', files: one(`locals {\n  a = regex_replace("2020-01-02T03:04:05Z", "[- TZ:]", "")\n  b = substr("COPARM64", 0, 6) == "COPARM" ? "arm" : "x86"\n  c = join(",", split(" ", "a b c"))\n  d = format("%s-%03d", "img", 7)\n  e = trimspace("  x  ")\n  f = replace(lower("A-B"), "-", "_")\n  g = formatdate("YYYY-MM-DD", "2026-11-30T12:00:00Z")\n}\n${source()}${build()}`) },
  { name: 'collection functions', files: one(`locals {\n  a = concat(["a"], ["b"])\n  b = length(merge({ a = 1 }, { b = 2 }))\n  c = lookup({ a = "x" }, "b", "fallback")\n  d = contains(["a", "b"], "b")\n  e = coalesce("", "first")\n  f = jsonencode({ k = [1, 2] })\n  g = try(local.nope, "fallback")\n  h = can(local.nope)\n}\n${source()}${build()}`) },
  { name: 'auto var files', files: { ...one(`variable "zone" {\n  default = "fr-par-1"\n}\n${source()}${build()}`), 'a.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n', 'b.auto.pkrvars.hcl': 'zone = "nl-ams-2"\n' } },
  { name: 'var file', files: { ...one(`variable "zone" {\n  default = "fr-par-1"\n}\n${source()}${build()}`), 'prod.pkrvars.hcl': 'zone = "pl-waw-1"\n' }, varFiles: ['prod.pkrvars.hcl'] },
  { name: '-var beats var files', files: { ...one(`variable "zone" {\n  default = "fr-par-1"\n}\n${source()}${build()}`), 'prod.pkrvars.hcl': 'zone = "pl-waw-1"\n', 'x.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n' }, varFiles: ['prod.pkrvars.hcl'], vars: { zone: 'fr-par-2' } },
  { name: 'PKR_VAR_ for a single file', files: one(`variable "zone" {\n  default = "fr-par-1"\n}\n${source()}${build()}`), env: { PKR_VAR_zone: 'nl-ams-1' }, file: 'build.pkr.hcl' },
  { name: 'auto var file beats PKR_VAR_', files: { ...one(`variable "zone" {\n  default = "fr-par-1"\n}\n${source()}${build()}`), 'x.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n' }, env: { PKR_VAR_zone: 'pl-waw-1' } },
  { name: 'list -var parsed as HCL', files: one(`variable "l" {\n  type    = list(string)\n  default = []\n}\n${source()}${build()}`), vars: { l: '["a","b"]' } },
  { name: 'sensitive variable', files: one(`variable "token" {\n  type      = string\n  default   = "${SECRET_KEY}"\n  sensitive = true\n}\n${source()}${build()}`) },
  { name: 'validation that passes', files: one(`variable "zone" {\n  default = "fr-par-1"\n  validation {\n    condition     = length(var.zone) > 3\n    error_message = "The zone is too short."\n  }\n}\n${source()}${build()}`) },
  { name: 'variables block', files: one(`variables {\n  zone = "fr-par-2"\n  n    = 3\n}\n${source()}${build()}`) },
  { name: 'only and except', files: one(source('one') + source('two') + build('  provisioner "shell" {\n    only   = ["scaleway.one"]\n    inline = ["one"]\n  }\n  provisioner "shell" {\n    except = ["scaleway.one"]\n    inline = ["two"]\n  }\n', '["source.scaleway.one", "source.scaleway.two"]')) },
  { name: 'split into files', files: { 'variables.pkr.hcl': 'variable "zone" {\n  default = "fr-par-1"\n}\n', 'sources.pkr.hcl': source(), 'build.pkr.hcl': build() } },
  { name: 'bool given as string', files: one(source('base', '  remove_volume   = "true"\n') + build()) },
  { name: 'build name in provisioners', files: one(source() + build('  provisioner "shell" {\n    inline = ["echo ${build.name}"]\n  }\n')) },
  { name: 'env() in a default', files: one(`variable "home" {\n  default = env("KILN_CORPUS_HOME")\n}\n${source()}${build()}`), env: { KILN_CORPUS_HOME: '/home/kiln' } },
  { name: 'comments of every kind', files: one(`# hash\n// slashes\n/* block\n   comment */\n${source()}${build()}`) },
  { name: 'escapes', files: one(`locals {\n  a = "tab\\there \\"q\\" \\u00e9 $\${literal} %%{literal}"\n}\n${source()}${build()}`) },
  { name: 'pkr.json', files: { 'build.pkr.json': JSON.stringify({ source: { scaleway: { base: { access_key: 'SCWABCDEFGHIJKLMNOPQ', secret_key: SECRET_KEY, project_id: '11111111-2222-4333-8444-555555555555', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'DEV1-S', ssh_username: 'root' } } }, build: { sources: ['source.scaleway.base'], provisioner: [{ shell: { inline: ['one'] } }, { shell: { inline: ['two'] } }] } }, null, 2) } },

  // ---- invalid ----
  { name: 'missing item separator', files: one(`${source()}build {\n  sources = ["source.scaleway.base" "x"]\n}\n`) },
  { name: 'two arguments on a one-line block', files: one(`${source()}build {\n  sources = ["source.scaleway.base"]\n  provisioner "shell" { inline = ["a"] timeout = "5m" }\n}\n`) },
  { name: 'binary operator before a newline', files: one(`locals {\n  a = 1 +\n  2\n}\n${source()}${build()}`) },
  { name: 'unterminated string', files: one(`locals {\n  a = "open\n}\n${source()}${build()}`) },
  { name: 'bad escape', files: one(`locals {\n  a = "\\q"\n}\n${source()}${build()}`) },
  { name: 'unknown function', files: one(`locals {\n  a = uper("x")\n}\n${source()}${build()}`) },
  { name: 'undeclared variable', files: one(`locals {\n  a = var.nope\n}\n${source()}${build()}`) },
  { name: 'unknown local', files: one(`locals {\n  a = local.nope\n}\n${source()}${build()}`) },
  { name: 'locals in a cycle', anyOfLines: [2, 3], files: one(`locals {\n  a = local.b\n  b = local.a\n}\n${source()}${build()}`) },
  { name: 'default of the wrong type', files: one(`variable "n" {\n  type    = number\n  default = "many"\n}\n${source()}${build()}`) },
  { name: 'unset variable', files: one(`variable "zone" {\n  type = string\n}\n${source()}${build()}`) },
  { name: 'undefined -var', files: one(source() + build()), vars: { nope: 'x' } },
  { name: 'validation that fails', files: one(`variable "zone" {\n  default = "x"\n  validation {\n    condition     = length(var.zone) > 3\n    error_message = "The zone is too short."\n  }\n}\n${source()}${build()}`) },
  { name: 'validation message not a sentence', files: one(`variable "zone" {\n  default = "fr-par-1"\n  validation {\n    condition     = length(var.zone) > 3\n    error_message = "too short"\n  }\n}\n${source()}${build()}`) },
  { name: 'default referring to a variable', files: one(`variable "a" {\n  default = "x"\n}\nvariable "b" {\n  default = var.a\n}\n${source()}${build()}`) },
  { name: 'duplicate variable', files: one(`variable "a" {\n  default = "x"\n}\nvariable "a" {\n  default = "y"\n}\n${source()}${build()}`) },
  { name: 'unknown top-level block', files: one(`${source()}${build()}builder "x" {\n}\n`) },
  { name: 'top-level argument', files: one(`zone = "fr-par-1"\n${source()}${build()}`) },
  { name: 'unknown source in a build', files: one(source() + build(undefined, '["source.scaleway.bsae"]')) },
  { name: 'misspelt source argument', files: one(source('base', '  comercial_type = "DEV1-S"\n') + build()) },
  { name: 'source argument set twice', files: one(source('base', '  zone            = "nl-ams-1"\n') + build()) },
  { name: 'type error in a list -var', files: one(`variable "l" {\n  type    = list(string)\n  default = []\n}\n${source()}${build()}`), vars: { l: '["a",' } },
  { name: 'unsupported attribute on an object', files: one(`locals {\n  o = { a = 1 }\n  b = local.o.nope\n}\n${source()}${build()}`) },
  { name: 'index out of range', files: one(`locals {\n  a = ["x"][3]\n}\n${source()}${build()}`) },
];
