# Builds a marketplace image with QEMU: boots a Debian guest disk, hardens it over SSH with
# marketplace-harden, shuts it down, and gates the resulting qcow2 with marketplace-check.
# It is what `make testacc` runs on the guest that scripts/make-guest-image.sh makes:
#
#   packer build -var guest_dir=testdata/guest/image example/qemu-debian.pkr.hcl
#
# Two builds share the one source: "marketplace" (harden, then check) is the real recipe;
# "check-only" checks the guest as it is, which shows what the recipe fixes:
#
#   packer build -only='check-only.qemu.debian' -var guest_dir=... example/qemu-debian.pkr.hcl
#
# The guest boots its kernel directly (QEMU -kernel/-initrd); for a disk with its own boot loader,
# drop the three qemuargs lines. On machines without working KVM keep accelerator = "tcg".
packer {
  required_plugins {
    marketplace = {
      version = ">= 0.1.0"
      source  = "github.com/marketready/marketplace"
    }
    qemu = {
      version = ">= 1.0.9"
      source  = "github.com/hashicorp/qemu"
    }
  }
}

variable "guest_dir" {
  type        = string
  description = "Directory holding guest.qcow2, vmlinuz, initrd.img and cmdline (scripts/make-guest-image.sh)."
}

variable "output_dir" {
  type    = string
  default = "output-qemu"
}

variable "accelerator" {
  type    = string
  default = "tcg"
}

variable "cpus" {
  type        = number
  default     = 1
  description = "vCPUs of the guest. Under TCG keep 1: two TCG vCPUs on a two-core host have hung the guest kernel at boot (soft lockups of both CPUs in netlink while modprobe ran), until ssh_timeout. With KVM, give it more."
}

variable "skip_steps" {
  type        = list(string)
  default     = []
  description = "marketplace-harden steps not to run (patch needs the guest to reach its package mirror)."
}

variable "keep_paths" {
  type        = list(string)
  default     = []
  description = "Guest paths marketplace-harden must leave as they are."
}

variable "waivers" {
  type        = map(string)
  default     = {}
  description = "Rule ID => the reason it is accepted for this image."
}

source "qemu" "debian" {
  iso_url          = "${var.guest_dir}/guest.qcow2"
  iso_checksum     = "none"
  disk_image       = true
  skip_resize_disk = true
  skip_compaction  = true
  format           = "qcow2"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  accelerator      = var.accelerator
  cpus             = var.cpus
  memory           = 1024
  headless         = true
  qemuargs = [
    ["-kernel", "${var.guest_dir}/vmlinuz"],
    ["-initrd", "${var.guest_dir}/initrd.img"],
    ["-append", trimspace(file("${var.guest_dir}/cmdline"))],
    ["-serial", "file:${var.output_dir}-serial.log"],
  ]
  output_directory = var.output_dir
  vm_name          = "disk.qcow2"
  communicator     = "ssh"
  ssh_username     = "packer"
  ssh_password     = "packer"
  ssh_timeout      = "20m"
  shutdown_command = "sudo -n shutdown -P now"
  shutdown_timeout = "10m"
}

build {
  name    = "marketplace"
  sources = ["source.qemu.debian"]

  provisioner "marketplace-harden" {
    profile      = "azure-linux"
    skip_steps   = var.skip_steps
    keep_paths   = var.keep_paths
    results_file = "${var.output_dir}-harden.json"
  }

  post-processor "marketplace-check" {
    profile        = "azure-linux"
    report_dir     = "${var.output_dir}-reports"
    report_formats = ["json", "junit", "mscert", "sarif"]
    sbom           = "${var.output_dir}-reports/sbom.cdx.json"

    dynamic "waive" {
      for_each = var.waivers
      content {
        rule   = waive.key
        reason = waive.value
      }
    }
  }
}

build {
  name    = "check-only"
  sources = ["source.qemu.debian"]

  post-processor "marketplace-check" {
    profile    = "azure-linux"
    report_dir = "${var.output_dir}-reports"
  }
}
