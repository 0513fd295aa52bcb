# Checks one disk image for several marketplaces at once: each finding names every marketplace's
# own check, a violation blocks when any of them requires the rule, and Alibaba's report is
# written in its own DetectionOptions shape. Run it with:
#
#   packer plugins install --path ./packer-plugin-marketplace github.com/marketready/marketplace
#   packer build -var image=path/to/disk.qcow2 example/several-marketplaces.pkr.hcl
#
# `packer-plugin-marketplace rules --profile aws` (digitalocean, oracle, alibaba) lists what each
# profile judges.
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
  description = "The Linux disk image to check (raw, qcow2, VHD, VHDX or VMDK)."
}

variable "marketplaces" {
  type        = list(string)
  default     = ["aws", "digitalocean", "oracle", "alibaba"]
  description = "The profiles to judge the image by."
}

variable "vulnerability_db" {
  type        = string
  default     = ""
  description = "OSV data for security-updates-installed: an all.zip, a directory of records or an https URL; empty uses OSV's bucket through the cache."
}

variable "reports" {
  type    = string
  default = "output"
}

source "file" "disk" {
  source = var.image
  target = "${var.reports}/disk.img"
}

build {
  sources = ["source.file.disk"]

  post-processor "marketplace-check" {
    profiles                 = var.marketplaces
    vulnerability_db         = var.vulnerability_db
    json_report              = "${var.reports}/marketplace.json"
    sarif_report             = "${var.reports}/marketplace.sarif"
    alibaba_detection_report = "${var.reports}/alibaba-detection.json"
  }
}
