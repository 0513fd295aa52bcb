// Package sbom writes the image's installed packages (from the dpkg, rpm or apk database read
// offline) as a CycloneDX 1.5 JSON SBOM, with package URLs, so that any vulnerability scanner
// (Trivy, Grype, Dependency-Track) can take it without access to the image.
package sbom

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
)

// OS identifies the operating system of the image (os-release ID, VERSION_ID, PRETTY_NAME).
type OS struct {
	ID, VersionID, Name string
}

// BOM is the subset of CycloneDX 1.5 written here.
type BOM struct {
	BOMFormat    string      `json:"bomFormat"`
	SpecVersion  string      `json:"specVersion"`
	SerialNumber string      `json:"serialNumber"`
	Version      int         `json:"version"`
	Metadata     Metadata    `json:"metadata"`
	Components   []Component `json:"components"`
}

// Metadata says what the BOM describes and what made it.
type Metadata struct {
	Timestamp string     `json:"timestamp"`
	Tools     Tools      `json:"tools"`
	Component *Component `json:"component,omitempty"`
}

// Tools lists the producing tool.
type Tools struct {
	Components []Component `json:"components"`
}

// Component is one package, or the image's operating system.
type Component struct {
	Type       string     `json:"type"`
	BOMRef     string     `json:"bom-ref,omitempty"`
	Name       string     `json:"name"`
	Version    string     `json:"version,omitempty"`
	PURL       string     `json:"purl,omitempty"`
	Properties []Property `json:"properties,omitempty"`
}

// Property is a name/value pair.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// purlType maps a package manager to its package-URL type.
var purlType = map[string]string{"dpkg": "deb", "rpm": "rpm", "apk": "apk"}

// Build makes the BOM of an inventory. image names the artifact; tool and version the producer.
func Build(inv *pkgdb.Inventory, osInfo OS, image, tool, version string, now time.Time) *BOM {
	b := &BOM{BOMFormat: "CycloneDX", SpecVersion: "1.5", SerialNumber: "urn:uuid:" + uuid4(), Version: 1,
		Metadata: Metadata{
			Timestamp: now.UTC().Format(time.RFC3339),
			Tools:     Tools{Components: []Component{{Type: "application", Name: tool, Version: version}}},
			Component: &Component{Type: "operating-system", BOMRef: "os", Name: osInfo.ID, Version: osInfo.VersionID,
				Properties: []Property{{Name: "marketplace:image", Value: image}, {Name: "marketplace:os-pretty-name", Value: osInfo.Name}}},
		},
		Components: []Component{},
	}
	if inv == nil {
		return b
	}
	typ := purlType[inv.Manager]
	for _, p := range inv.Packages {
		c := Component{Type: "library", Name: p.Name, Version: p.Version,
			Properties: []Property{{Name: "marketplace:package-manager", Value: inv.Manager}}}
		if typ != "" {
			c.PURL = purl(typ, osInfo, p)
			c.BOMRef = c.PURL
		}
		b.Components = append(b.Components, c)
	}
	return b
}

// purl is pkg:TYPE/NAMESPACE/NAME@VERSION?arch=ARCH&distro=ID-VERSION_ID.
func purl(typ string, o OS, p pkgdb.Package) string {
	ns := o.ID
	if ns == "" {
		ns = "unknown"
	}
	s := fmt.Sprintf("pkg:%s/%s/%s@%s", typ, url.PathEscape(ns), url.PathEscape(p.Name), url.PathEscape(p.Version))
	q := url.Values{}
	if p.Arch != "" {
		q.Set("arch", p.Arch)
	}
	if o.ID != "" && o.VersionID != "" {
		q.Set("distro", o.ID+"-"+o.VersionID)
	}
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Write writes the BOM as indented JSON.
func (b *BOM) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}
