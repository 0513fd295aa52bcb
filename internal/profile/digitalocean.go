package profile

// DigitalOcean Marketplace. DigitalOcean judges an image with its own validation script, run as
// root on a Droplet made from it: digitalocean/marketplace-partners at commit 65b85d4,
// scripts/99-img-check.sh. Each check below carries the script's own name for what it checks
// (its message, short) and its level: the script's FAIL is Required, its WARN Advisory. Where
// the script asks the running system (the firewall's live state), Running is set: the rule
// decides it from the disk, as the system would at boot. docs/digitalocean.md compares the
// script's verdicts with these, check by check, on the fixture images (make digitalocean).

const doValidationScript = "digitalocean/marketplace-partners@65b85d4:scripts/99-img-check.sh"

var _ = register(
	Profile{Name: DigitalOcean, Marketplace: MarketDO, OS: Linux, Title: "DigitalOcean Marketplace, Linux",
		Source: "DigitalOcean's Marketplace image validation script (" + doValidationScript + ")", Checks: []Check{
			{Rule: "do-supported-distribution", Level: Required, Name: "Supported Operating System Detected", Source: doValidationScript},
			{Rule: "do-supported-version", Level: Required, Name: "Supported Release Detected", Source: doValidationScript},
			// the script's list still holds releases past their vendor's end; the marketplace
			// means a supported release, which supported-release decides from the vendors' dates
			{Rule: "supported-release", Level: Required, Name: "Supported Release Detected (the vendor still publishes security updates)", Source: doValidationScript},
			{Rule: "cloud-init-enabled", Level: Required, Name: "Cloud-init is installed", Source: doValidationScript},
			{Rule: "firewall-enabled", Level: Advisory, Name: "Firewall service is active", Source: doValidationScript, Running: true},
			{Rule: "security-updates-installed", Level: Required, Name: "There are no pending security updates for this image", Source: doValidationScript},
			{Rule: "empty-logs", Level: Advisory, Name: "Log archives and un-cleared log files in /var/log", Source: doValidationScript},
			{Rule: "locked-accounts", Level: Required, Name: "User has no password set (root and each user with UID 1000 or more)", Source: doValidationScript},
			{Rule: "no-ssh-keys", Level: Required, Name: "No populated authorized_keys file or private key in .ssh", Source: doValidationScript},
			{Rule: "no-ssh-dir-files", Level: Advisory, Name: "No other file in the .ssh directory", Source: doValidationScript},
			{Rule: "bash-history-cleared", Level: Required, Name: "Bash History appears to have been cleared", Source: doValidationScript},
			{Rule: "do-agent-removed", Level: Required, Name: "DigitalOcean directory detected", Source: doValidationScript},
		}},
)
