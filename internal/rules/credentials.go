package rules

import (
	"fmt"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/scan"
)

// Content is what the streaming pass over every file found; the check runs the pass before
// the rules when a selected rule needs a kind of content (Rule.Needs) and content scanning is on.
type Content struct {
	Stats *scan.Stats
	// Results are the scanners' reports by kind; a kind without a result did not run.
	Results map[scan.Kind]*scan.Result
}

// Result is the report of the scanner of kind k, nil when none ran.
func (ct *Content) Result(k scan.Kind) *scan.Result {
	if ct == nil {
		return nil
	}
	return ct.Results[k]
}

// unseen is the verdict of a content rule whose scanner did not see everything: a rule that
// found nothing cannot pass on a partial look (it is an error naming what was not read); one
// that found violations fails, and says what it could not read as well.
func (ct *Content) unseen(scanner string, res Result) Result {
	if ct.Stats == nil {
		return res
	}
	n, ex := ct.Stats.Missed(scanner)
	if n == 0 {
		return res
	}
	gap := Quote(scan.MissedSummary(n, ex, 5)) // the paths and errors of what was not read
	if res.Status == Fail {
		res.Message += "; also, " + gap
		return res
	}
	out := Result{Status: Error, Message: "could not inspect everything: " + gap + "; a clean result needs every file read"}
	for i, e := range ex {
		if i == 20 {
			break
		}
		out.Evidence = append(out.Evidence, Evidence{Path: e.Path, Detail: "not read: " + Quote(e.Error)})
	}
	return out
}

func contentOff(what string) Result {
	return na("content scanning is off (content_scan = false): " + what + " were not looked for")
}

var _ = register(&Rule{
	ID:       "no-hardcoded-credentials",
	Title:    "No hard-coded credentials (private keys, cloud AccessKeys, tokens, passwords) in any file",
	Severity: Critical,
	Needs:    []scan.Kind{scan.Secrets},
	Source:   "Alibaba Cloud image best practices (no hard-coded credentials: DB passwords, API/Access keys, private keys); Azure Marketplace image security recommendations (remove keys and unneeded certificates)",
	Rationale: "A credential in an image is handed to every customer and cannot be rotated per instance. Every file " +
		"of every filesystem, each walked by itself (so files under a mount point are searched), and every extended attribute, is searched " +
		"with gitleaks' rule set plus Azure, GCP, database-URL and config-file rules, and rules for what " +
		"a build and its first boot leave: the Azure agent's ovf-env.xml, cloud-init's instance data and chpasswd lists, installer " +
		"answer files (preseed, debconf, Kickstart, Ignition), password hashes in shadow- backups, Wi-Fi and VPN secrets, PuTTY keys, " +
		"PHP and Django settings, passwords on command lines (mysql -p, sshpass -p, curl -u). Binary files are searched as their strings; " +
		"UTF-16 and UTF-32 text is decoded; base64 values of Kubernetes Secrets and kubeconfigs are decoded, and so is every run of 32 or more " +
		"base64, base32 or hex characters (wrapped over lines too, in pieces past 1 MiB) that decodes to text, gunzipped or from UTF-16, " +
		"and text written as a hex dump (xxd, hexdump, od), colon hex, %-encoding, backslash escapes (\\x, \\u, octal), HTML character " +
		"references, shell line continuations and YAML block scalars; an AWS key ID packed among a " +
		"binary's strings is found, and so is a private key stored in binary form at a file's start, whatever follows it, as OpenSSL reads it (DER: PKCS#1, PKCS#8, SEC1; a " +
		"PKCS#12 bundle without a password, in the legacy algorithms or OpenSSL 3's AES); containers are recognised by their " +
		"content, where a file or a member starts, a zip by its end record wherever it starts (zip, tar, cpio, ar/.deb, rpm, gzip, bzip2, xz, zstd (pzstd's skippable frames too), " +
		"lz4, lzma, concatenated streams as in an initramfs, a shell script's payload as in a makeself installer, ISO 9660 images " +
		"(Rock Ridge, Joliet), cramfs, PDF streams (Flate, ASCIIHex, ASCII85), systemd journals' compressed fields, git packfiles and bundles, " +
		"a unified kernel image's .initrd and .ucode sections, disk and filesystem images; brotli by a .br name) and opened three levels deep, each finding named ARCHIVE!/MEMBER; one past its " +
		"limits, encrypted, of a format that is not opened (7z, rar, squashfs, zisofs files, a PDF's other filters) or corrupt is not " +
		"seen, so the rule cannot pass on it. Files the " +
		"distribution installed and that are unchanged (dpkg's md5sums of an installed package), and container members identical to them, " +
		"files pip installed unchanged (their RECORD's SHA-256) and store snaps (their snap-revision assertion's SHA3-384 and size; " +
		"signatures not verified) are skipped by those digests. What package managers and snapd generate (package indexes, dpkg's lists, " +
		"module indexes, store assertions) is searched without the generic rules, which its words would set off; SSH host keys are " +
		"no-ssh-host-keys'. A private key protected by a passphrase is not a finding, judged by the key's own armour only: " +
		"PKCS#8's ENCRYPTED label, a Proc-Type: 4,ENCRYPTED header with a DEK-Info naming the cipher, an OpenSSH key's cipher name.",
	Fix: "Remove the credential and rotate it; have the application read secrets at deploy time (cloud-init, a key vault, RAM roles). " +
		"A value that is not a secret can be accepted with secrets_allow_fingerprints, a path with secrets_allow_paths.",
	Check: anyOS(func(c *Context) Result {
		r := c.Content.Result(scan.Secrets)
		if r == nil {
			return contentOff("credentials")
		}
		if len(r.Findings) == 0 {
			return c.Content.unseen(r.Scanner, pass("no credentials found: "+r.Scope))
		}
		ev := findingsEvidence(r)
		res := fail(fmt.Sprintf("%d hard-coded credential(s) found; %s", len(ev), r.Scope), ev...) // all of them: the table summarises
		res.Actual = fmt.Sprintf("%d credential(s)", len(ev))
		res.Required = "none"
		return c.Content.unseen(r.Scanner, res)
	}),
})

// findingsEvidence lists every finding of a scanner as evidence.
func findingsEvidence(r *scan.Result) []Evidence {
	var ev []Evidence
	for _, f := range r.Findings {
		ev = append(ev, Evidence{Path: f.Path, Line: f.Line, Detail: f.Detail})
	}
	return ev
}

var _ = register(&Rule{
	ID:       "no-malware",
	Title:    "No malware: every file scanned by ClamAV (clamd) comes back clean",
	Severity: Critical,
	Needs:    []scan.Kind{scan.Malware},
	Source:   "Azure Marketplace image security recommendations (malware scan of the image)",
	Rationale: "The marketplace scans submitted images for malware and rejects infected ones. Every regular file of every " +
		"filesystem is streamed to clamd (INSTREAM), up to clamd's StreamMaxLength.",
	Fix: "Remove or replace the infected files and find how they got into the build. Keep clamd's signatures current (freshclam).",
	Check: func(c *Context) Result {
		if c.Content == nil {
			return contentOff("malware")
		}
		r := c.Content.Result(scan.Malware)
		if r == nil {
			return na("no malware scan: set clamd_address to a running clamd to scan every file")
		}
		tool := strings.TrimSpace(r.Tool)
		if ev := findingsEvidence(r); len(ev) > 0 {
			res := fail(fmt.Sprintf("%s found %d infected file(s)", r.Tool, len(ev)), ev...) // all of them: the table summarises
			res.Actual = fmt.Sprintf("%d infected file(s)", len(ev))
			res.Required = "none"
			if len(r.Unjudged) > 0 {
				res.Message += fmt.Sprintf("; %d file(s) over clamd's stream limit were not scanned", len(r.Unjudged))
			}
			return c.Content.unseen(r.Scanner, res)
		}
		if len(r.Unjudged) > 0 {
			// a file clamd did not scan may hold what it looks for: no clean verdict
			var ev []Evidence
			for _, p := range r.Unjudged {
				ev = append(ev, Evidence{Path: p, Detail: "larger than clamd's stream limit: not scanned"})
			}
			return Result{Status: Error, Message: fmt.Sprintf("could not inspect everything: %d file(s) are larger than clamd's stream limit "+
				"and were not scanned (%s, %s); raise clamd's StreamMaxLength and clamd_max_stream_mb to match",
				len(r.Unjudged), r.Scope, tool), Evidence: listing(ev, 20)}
		}
		return c.Content.unseen(r.Scanner, pass(fmt.Sprintf("%s by %s, none infected", r.Scope, tool)))
	},
})
