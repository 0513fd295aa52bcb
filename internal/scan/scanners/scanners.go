// Package scanners registers every content scanner with internal/scan (each registers itself
// when its package is loaded). Whoever runs the content pass imports this package; a new scanner
// is a package that registers a scan.Source, listed here, and rules that name its scan.Kind.
package scanners

import (
	_ "github.com/marketready/packer-plugin-marketplace/internal/scan/clamd"     // Malware
	_ "github.com/marketready/packer-plugin-marketplace/internal/scan/integrity" // Integrity
	_ "github.com/marketready/packer-plugin-marketplace/internal/scan/secrets"   // Secrets
)
