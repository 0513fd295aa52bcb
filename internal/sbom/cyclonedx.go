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
	"strings"
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
	// Vulnerabilities are the advisories that security-updates-installed found (CycloneDX
	// 1.5 vulnerabilities, each affecting the installed packages built from its source).
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
}

// Vulnerability is one advisory.
type Vulnerability struct {
	BOMRef         string      `json:"bom-ref"`
	ID             string      `json:"id"`
	Source         *VulnSource `json:"source,omitempty"`
	References     []VulnRef   `json:"references,omitempty"`
	Ratings        []Rating    `json:"ratings,omitempty"`
	Recommendation string      `json:"recommendation,omitempty"`
	Affects        []Affect    `json:"affects"`
	Properties     []Property  `json:"properties,omitempty"`
}

// VulnSource names the database.
type VulnSource struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// VulnRef is another ID of the same vulnerability (a CVE).
type VulnRef struct {
	ID     string     `json:"id"`
	Source VulnSource `json:"source"`
}

// Rating is a severity.
type Rating struct {
	Severity string `json:"severity"`
	Method   string `json:"method,omitempty"`
	Vector   string `json:"vector,omitempty"`
}

// Affect points at a component by its bom-ref.
type Affect struct {
	Ref string `json:"ref"`
}

// Advisory is what the SBOM says of one finding of security-updates-installed.
type Advisory struct {
	ID, Source, Installed, Fixed, Severity, SeverityFrom string
	Aliases, Packages                                    []string
	Database                                             string // the OSV data's source
}

// AddVulnerabilities records advisories against the components of the installed packages they
// name (by name; a package without a bom-ref is not linked).
func (b *BOM) AddVulnerabilities(advs []Advisory) {
	refs := map[string]string{}
	for _, c := range b.Components {
		if c.BOMRef != "" {
			refs[c.Name] = c.BOMRef
		}
	}
	for _, a := range advs {
		v := Vulnerability{BOMRef: "vuln:" + a.ID + ":" + a.Source, ID: a.ID, Source: &VulnSource{Name: "OSV", URL: a.Database}, Affects: []Affect{}}
		for _, id := range a.Aliases {
			v.References = append(v.References, VulnRef{ID: id, Source: VulnSource{Name: "OSV"}})
		}
		if a.Severity != "" && a.Severity != "unknown" {
			r := Rating{Severity: a.Severity, Method: "other"}
			switch {
			case strings.HasPrefix(a.SeverityFrom, "CVSS:3.1"):
				r.Method = "CVSSv31"
			case strings.HasPrefix(a.SeverityFrom, "CVSS:3.0"):
				r.Method = "CVSSv3"
			}
			v.Ratings = []Rating{r}
		}
		if a.Fixed != "" {
			v.Recommendation = fmt.Sprintf("upgrade the packages built from %s to %s or later", a.Source, a.Fixed)
		}
		for _, p := range a.Packages {
			if ref, ok := refs[p]; ok {
				v.Affects = append(v.Affects, Affect{Ref: ref})
			}
		}
		v.Properties = []Property{{Name: "marketplace:source-package", Value: a.Source}, {Name: "marketplace:installed-version", Value: a.Installed}}
		if a.Fixed != "" {
			v.Properties = append(v.Properties, Property{Name: "marketplace:fixed-version", Value: a.Fixed})
		}
		b.Vulnerabilities = append(b.Vulnerabilities, v)
	}
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
