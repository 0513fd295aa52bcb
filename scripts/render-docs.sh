#!/usr/bin/env bash
# Renders docs/ into .web-docs/ in the layout the Packer integrations site reads:
# .web-docs/README.md and .web-docs/components/<type>/<name>/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go tool packer-sdc renderdocs -src docs -partials docs-partials -dst "$tmp/docs" >/dev/null
rm -rf .web-docs
mkdir -p .web-docs/components/post-processor/check .web-docs/components/provisioner/harden
cp "$tmp/docs/README.md" .web-docs/README.md
# the integrations site takes the body without the front matter
body() { awk 'NR==1 && /^---$/ {fm=1; next} fm && /^---$/ {fm=0; next} !fm' "$1"; }
body "$tmp/docs/post-processors/check.mdx" > .web-docs/components/post-processor/check/README.md
body "$tmp/docs/provisioners/harden.mdx" > .web-docs/components/provisioner/harden/README.md
cat > .web-docs/metadata.hcl <<'HCL'
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
HCL
