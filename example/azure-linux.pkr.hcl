# An Azure Marketplace Linux image built with azure-arm: Ubuntu 22.04 is hardened by
# marketplace-harden (ending with the Azure agent's deprovision) and gated by marketplace-check.
# Two sources, one recipe:
#
#   vhd      captures the OS disk as a VHD page blob in var.storage_account: what a Marketplace
#            offer references by SAS URL; marketplace-check reads it there, by the artifact's
#            read-only SAS URL, with range requests (a few MB of a 30 GiB disk);
#   managed  captures a managed image for a Compute Gallery (no VHD: marketplace-check needs
#            vhd_url to a SAS URL of the OS disk, or the vhd source).
#
#   az login
#   packer build -only='*.azure-arm.vhd' -var subscription_id=... -var resource_group=images \
#     -var storage_account=marketimages example/azure-linux.pkr.hcl
packer {
  required_plugins {
    azure = {
      version = ">= 1.4.5"
      source  = "github.com/hashicorp/azure"
    }
    marketplace = {
      version = ">= 0.1.0"
      source  = "github.com/marketready/marketplace"
    }
  }
}

variable "subscription_id" {
  type = string
}

variable "resource_group" {
  type        = string
  description = "The resource group that receives the captured image."
}

variable "storage_account" {
  type        = string
  default     = ""
  description = "Storage account (in resource_group) for the VHD; the vhd source needs it."
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "image_name" {
  type    = string
  default = "ubuntu-2204-marketplace"
}

# The base VM; the build below names its two captures.
source "azure-arm" "ubuntu" {
  use_azure_cli_auth = true
  subscription_id    = var.subscription_id
  location           = var.location
  vm_size            = "Standard_D2s_v3"
  os_type            = "Linux"
  image_publisher    = "Canonical"
  image_offer        = "0001-com-ubuntu-server-jammy"
  image_sku          = "22_04-lts-gen2"
}

build {
  source "source.azure-arm.ubuntu" {
    name                   = "vhd"
    resource_group_name    = var.resource_group
    storage_account        = var.storage_account
    capture_container_name = "images"
    capture_name_prefix    = var.image_name
  }

  source "source.azure-arm.ubuntu" {
    name                              = "managed"
    managed_image_name                = var.image_name
    managed_image_resource_group_name = var.resource_group
  }

  provisioner "marketplace-harden" {
    profile      = "azure-linux"
    deprovision  = true
    results_file = "output/${source.name}-harden.json"
  }

  post-processor "marketplace-check" {
    profile        = "azure-linux"
    report_dir     = "output/${source.name}"
    report_formats = ["json", "junit", "mscert", "sarif"]
    sbom           = "output/${source.name}/sbom.cdx.json"
  }
}
