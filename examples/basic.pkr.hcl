# The basic example (examples/basic.json) as an HCL2 template, the language Packer users write
# today. Runs as is against the embedded simulator: kiln build --sim examples/basic.pkr.hcl
# For Scaleway: credentials and project come from SCALEWAY_API_ACCESS_KEY/SCALEWAY_API_TOKEN,
# else SCW_ACCESS_KEY/SCW_SECRET_KEY/SCW_DEFAULT_PROJECT_ID, else ~/.config/scw/config.yaml
# (an empty value here falls through to them).
variable "api_access_key" {
  type    = string
  default = env("SCALEWAY_API_ACCESS_KEY")
}

variable "api_token" {
  type      = string
  default   = env("SCALEWAY_API_TOKEN")
  sensitive = true
}

source "scaleway" "basic" {
  api_access_key  = var.api_access_key
  api_token       = var.api_token
  image           = "ubuntu_jammy"
  zone            = "fr-par-1"
  commercial_type = "START1-S"
  ssh_username    = "root"
}

build {
  sources = ["source.scaleway.basic"]

  provisioner "shell" {
    inline = ["echo 'built by kiln from examples/basic.pkr.hcl' > /etc/kiln-release"]
  }

  provisioner "file" {
    source      = "files/motd"
    destination = "/etc/motd"
  }
}
