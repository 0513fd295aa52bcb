# Checks an existing disk image with marketplace-check, using Packer's built-in file builder to
# turn the image into a build artifact. Run it with:
#
#   packer init example/file-check.pkr.hcl     # or: packer plugins install --path ./packer-plugin-marketplace github.com/marketready/marketplace
#   packer build -var image=path/to/disk.qcow2 example/file-check.pkr.hcl
#   packer build -var image=path/to/windows.vhd example/file-check.pkr.hcl   # profile: the guest's (azure-windows)
packer {
  required_plugins {
    marketplace = {
      version = ">= 0.1.0"
      source  = "github.com/marketready/marketplace"
    }
  }
}

variable "image" {
  type        = string
  description = "The disk image to check (raw, qcow2, VHD, VHDX or VMDK)."
}

variable "profile" {
  type        = string
  default     = ""
  description = "The rule profile: azure-linux, azure-windows, alibaba, alibaba-windows, aws, aws-windows, digitalocean or oracle; empty takes the Azure profile of the guest OS found in the image."
}

variable "output" {
  type    = string
  default = "output/disk.img"
}

variable "reports" {
  type    = string
  default = "output"
}

variable "waive_firewall" {
  type    = bool
  default = false
}

source "file" "disk" {
  source = var.image
  target = var.output
}

build {
  sources = ["source.file.disk"]

  post-processor "marketplace-check" {
    profile      = var.profile
    json_report  = "${var.reports}/marketplace.json"
    junit_report = "${var.reports}/marketplace-junit.xml"

    dynamic "waive" {
      for_each = var.waive_firewall ? ["firewall-disabled"] : []
      content {
        rule   = waive.value
        reason = "the appliance filters its management port itself"
      }
    }
  }
}
