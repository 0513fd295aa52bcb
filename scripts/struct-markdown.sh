#!/usr/bin/env bash
# Generates the option reference of each component (docs-partials/<component>/<Type>-required.mdx
# and -not-required.mdx) from the field comments of its config structs, with packer-sdc
# struct-markdown, as HashiCorp's plugins do; the pages under docs/ include them, and
# scripts/render-docs.sh resolves the includes into .web-docs/. packer-sdc finds the project
# root by a directory named packer-plugin-*: it is given one (a symlink to this checkout), so
# that the checkout's own directory can have any name.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ln -s "$root" "$tmp/packer-plugin-marketplace"
rm -rf docs-partials
for f in post-processor/check/post-processor.go provisioner/harden/provisioner.go; do
  go tool packer-sdc struct-markdown "$tmp/packer-plugin-marketplace/$f"
done
# only the option lists and the Waiver block's description are included by the docs
find docs-partials -name '*.mdx' ! -name '*-required.mdx' ! -name '*-not-required.mdx' ! -name 'Waiver.mdx' -delete
