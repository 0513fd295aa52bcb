# Hardens an existing Linux machine over SSH with marketplace-harden, using Packer's built-in
# null builder (no image is built: the machine is changed in place). Start with a dry run:
#
#   packer build -var host=203.0.113.10 -var user=azureuser -var key=~/.ssh/id_ed25519 \
#     -var dry_run=true example/harden-existing-host.pkr.hcl
packer {
  required_plugins {
    marketplace = {
      version = ">= 0.1.0"
      source  = "github.com/marketready/marketplace"
    }
  }
}

variable "host" {
  type = string
}

variable "port" {
  type    = number
  default = 22
}

variable "user" {
  type = string
}

variable "key" {
  type = string
}

variable "profile" {
  type    = string
  default = "azure"
}

variable "dry_run" {
  type    = bool
  default = true
}

variable "skip_steps" {
  type    = list(string)
  default = []
}

variable "execute_command" {
  type    = string
  default = "sudo -n env MP_CLEANUP=1 sh '{{.Path}}'"
}

variable "results_file" {
  type    = string
  default = "output/harden-results.json"
}

source "null" "host" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ssh_private_key_file = var.key
}

build {
  sources = ["source.null.host"]

  provisioner "marketplace-harden" {
    profile         = var.profile
    dry_run         = var.dry_run
    skip_steps      = var.skip_steps
    execute_command = var.execute_command
    results_file    = var.results_file
  }
}
