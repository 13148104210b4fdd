// A large HCL2 template for the bench: variables, locals using templates, for expressions and
// functions, sources and builds with provisioners, about `lines` lines in all.
export function largeHclTemplate(lines: number): string {
  const parts: string[] = [];
  let count = 0;
  let i = 0;
  while (count < lines) {
    const block = `variable "zone_${i}" {
  type    = string
  default = "fr-par-1"
  validation {
    condition     = length(var.zone_${i}) > 3
    error_message = "The zone must be a zone name."
  }
}
locals {
  name_${i}  = "img-\${upper(var.zone_${i})}-%{ if length(var.zone_${i}) > 3 }long%{ else }short%{ endif }"
  tags_${i}  = [for t in ["a", "b", "c"] : "\${t}-\${var.zone_${i}}" if t != "b"]
  by_${i}    = { for k, v in { x = 1, y = 2 } : k => v * ${i + 1} }
  stamp_${i} = formatdate("YYYYMMDDhhmmss", "2026-11-30T12:00:00Z")
  joined_${i} = join(",", concat(local.tags_${i}, [regex_replace(local.stamp_${i}, "[0-9]", "x")]))
}
source "scaleway" "s${i}" {
  zone            = var.zone_${i}
  image           = "ubuntu_jammy"
  commercial_type = "DEV1-S"
  image_name      = local.name_${i}
  snapshot_name   = "snap-\${local.stamp_${i}}"
  ssh_username    = "root"
  tags            = local.tags_${i}
}
build {
  sources = ["source.scaleway.s${i}"]
  provisioner "shell" {
    inline = ["echo \${local.joined_${i}}", "echo \${source.name}"]
  }
  provisioner "shell" {
    inline = [<<-EOT
      echo heredoc \${local.by_${i}["x"]}
    EOT
    ]
  }
}
`;
    parts.push(block);
    count += block.split('\n').length - 1;
    i++;
  }
  return parts.join('');
}
