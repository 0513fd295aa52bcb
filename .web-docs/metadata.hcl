# For full specification on the configuration of this file visit:
# https://github.com/hashicorp/integration-template#metadata-configuration
integration {
  name        = "Marketplace"
  description = "Harden VM images for cloud marketplaces and prove them compliant offline before submission."
  identifier  = "packer/marketready/marketplace"
  component {
    type = "provisioner"
    name = "marketplace-harden"
    slug = "harden"
  }
  component {
    type = "post-processor"
    name = "marketplace-check"
    slug = "check"
  }
}
