#!/usr/bin/env bash
# Builds a pinned `packer` binary from the Go module proxy into .tools/bin/packer.
# `go install` of packer is refused by the proxy, so a throwaway module requires the exact version.
set -euo pipefail
PACKER_VERSION="${PACKER_VERSION:-v1.14.3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"
if [ -x "$bin/packer" ] && "$bin/packer" version 2>/dev/null | grep -q "${PACKER_VERSION#v}"; then
  echo "packer ${PACKER_VERSION} already at $bin/packer"; exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module packerbuild

go 1.24

require github.com/hashicorp/packer ${PACKER_VERSION}

replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3
MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/hashicorp/packer"
GO
GONOSUMDB=github.com/hashicorp/packer GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GONOSUMDB=github.com/hashicorp/packer go mod tidy
GONOSUMDB=github.com/hashicorp/packer go build -o "$bin/packer" github.com/hashicorp/packer
"$bin/packer" version
