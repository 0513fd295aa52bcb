# An Azure Marketplace Windows Server 2022 image built with azure-arm over WinRM: marketplace-harden
# installs the updates (restarting as needed), cleans keys, credentials, histories, temp files and
# event logs, and generalizes with sysprep, waiting for IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE before
# Packer captures the disk; marketplace-check then reads the captured VHD through its SAS URL and
# checks the azure-windows profile. Two sources, one recipe:
#
#   vhd      captures the OS disk as a VHD page blob in var.storage_account (a Marketplace offer
#            references it by SAS URL); this one is checked;
#   managed  captures a managed image for a Compute Gallery (the checker cannot read a managed
#            image; check the vhd capture of the same build).
#
#   az login
#   packer build -only='*.azure-arm.vhd' -var subscription_id=... -var resource_group=images \
#     -var storage_account=marketimages example/azure-windows.pkr.hcl
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
  type = string
}

variable "storage_account" {
  type    = string
  default = ""
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "image_name" {
  type    = string
  default = "ws2022-marketplace"
}

# The base VM, reached over WinRM; the build below names its two captures.
source "azure-arm" "windows" {
  use_azure_cli_auth = true
  subscription_id    = var.subscription_id
  location           = var.location
  vm_size            = "Standard_D2s_v3"
  os_type            = "Windows"
  image_publisher    = "MicrosoftWindowsServer"
  image_offer        = "WindowsServer"
  image_sku          = "2022-datacenter-g2"

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "10m"
  winrm_username = "packer"
}

build {
  source "source.azure-arm.windows" {
    name                   = "vhd"
    resource_group_name    = var.resource_group
    storage_account        = var.storage_account
    capture_container_name = "images"
    capture_name_prefix    = var.image_name
  }

  source "source.azure-arm.windows" {
    name                              = "managed"
    managed_image_name                = var.image_name
    managed_image_resource_group_name = var.resource_group
  }

  provisioner "marketplace-harden" {
    profile       = "azure-windows"
    elevated_user = "SYSTEM" # Windows Update refuses WinRM sessions; a scheduled task is not one
    sysprep       = true
    results_file  = "output/${source.name}-harden.json"
  }

  post-processor "marketplace-check" {
    only           = ["azure-arm.vhd"]
    profile        = "azure-windows"
    report_dir     = "output/${source.name}"
    report_formats = ["json", "junit", "sarif"]
  }
}
