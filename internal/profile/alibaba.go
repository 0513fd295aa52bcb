package profile

// Alibaba Cloud. The Linux profile carries the image check's own item names (the GUESTOS.* items
// that CreateImage/ImportImage with DetectionStrategy=Standard reports in DescribeImages'
// DetectionOptions) where a rule decides the same thing, and the image best practices (cleanup
// before creating an image) for the rest.

const (
	alibabaBestPractices = "Alibaba Cloud image best practices"
	alibabaImageCheck    = "Alibaba Cloud ECS image check (CreateImage/ImportImage with DetectionStrategy=Standard; the items DescribeImages returns in DetectionOptions.Items)"
)

var _ = register(
	Profile{Name: Alibaba, Marketplace: MarketAlibaba, OS: Linux, Title: "Alibaba Cloud, Linux", Source: alibabaBestPractices + "; " + alibabaImageCheck, Checks: []Check{
		{Rule: "boot-devices-resolve", ID: "GUESTOS.Fstab", Name: "fstab configuration", Source: alibabaImageCheck},
		{Rule: "clean-paths"},
		{Rule: "empty-logs"},
		{Rule: "empty-tmp"},
		{Rule: "first-nic-dhcp", ID: "GUESTOS.Dhcp", Name: "DHCP configuration", Source: alibabaImageCheck},
		{Rule: "locked-accounts"},
		{Rule: "no-extra-users"},
		{Rule: "no-hardcoded-credentials"},
		{Rule: "no-shell-history"},
		{Rule: "no-ssh-host-keys"},
		{Rule: "no-ssh-keys"},
		{Rule: "security-updates-installed"},
		{Rule: "single-uid0"},
		{Rule: "supported-release"},
		{Rule: "unique-machine-id"},
		{Rule: "virtio-drivers-at-boot", ID: "GUESTOS.Virtio", Name: "virtio drivers", Source: alibabaImageCheck},
	}},
	Profile{Name: AlibabaWindows, Marketplace: MarketAlibaba, OS: Windows, Title: "Alibaba Cloud, Windows", Source: alibabaBestPractices, Checks: []Check{
		{Rule: "no-hardcoded-credentials"},
		{Rule: "supported-release"},
		{Rule: "windows-event-logs-cleared"},
		{Rule: "windows-generalized"},
		{Rule: "windows-no-cached-credentials"},
		{Rule: "windows-no-powershell-history"},
		{Rule: "windows-no-ssh-keys"},
		{Rule: "windows-temp-empty"},
	}},
)
