// Package version holds the plugin's version, set at release time by goreleaser's ldflags.
package version

import "github.com/hashicorp/packer-plugin-sdk/version"

var (
	// Version is the main version number.
	Version = "0.1.0"
	// VersionPrerelease is "dev" for local builds and "" for releases.
	VersionPrerelease = "dev"
	// VersionMetadata is optional build metadata.
	VersionMetadata = ""
	// PluginVersion is what Packer sees.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
