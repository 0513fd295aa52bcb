package profile

// Alibaba Cloud. The Linux profile carries the image check's own item names (the GUESTOS.* items
// that CreateImage/ImportImage with DetectionStrategy=Standard reports in DescribeImages'
// DetectionOptions) where a rule decides the same thing, and the image best practices (cleanup
// before creating an image) for the rest.

const (
	alibabaBestPractices = "Alibaba Cloud image best practices"
	alibabaImageSpec     = "Alibaba Cloud Linux image requirements (https://www.alibabacloud.com/help/en/ecs/user-guide/cloud-marketplace-mirror-specification)"
	alibabaImageCheck    = "Alibaba Cloud ECS image check (CreateImage/ImportImage with DetectionStrategy=Standard; the items DescribeImages returns in DetectionOptions.Items)"
)

var _ = register(
	Profile{Name: Alibaba, Marketplace: MarketAlibaba, OS: Linux, Title: "Alibaba Cloud, Linux", Source: alibabaBestPractices + "; " + alibabaImageCheck, Checks: []Check{
		{Rule: "boot-mode-consistent", ID: "GUESTOS.BootMode", Name: "boot mode (legacy or UEFI)", Source: alibabaImageCheck},
		{Rule: "boot-devices-resolve", ID: "GUESTOS.Fstab", Name: "fstab configuration", Source: alibabaImageCheck},
		{Rule: "clean-paths"},
		{Rule: "cloud-assistant-installed", Level: Advisory, ID: "GUESTOS.CloudAssistant", Name: "Cloud Assistant", Source: alibabaImageCheck},
		{Rule: "cloud-init-enabled", ID: "GUESTOS.CloudInit", Name: "cloud-init", Source: alibabaImageCheck},
		{Rule: "empty-logs"},
		{Rule: "empty-tmp"},
		{Rule: "first-nic-dhcp", ID: "GUESTOS.Dhcp", Name: "DHCP configuration", Source: alibabaImageCheck},
		{Rule: "grub-boots-by-uuid", ID: "GUESTOS.Grub", Name: "GRUB configuration", Source: alibabaImageCheck},
		{Rule: "hardware-clock-utc", Level: Advisory, ID: "GUESTOS.RtcTimeMode", Name: "RTC time standard", Source: alibabaImageCheck},
		{Rule: "locked-accounts"},
		{Rule: "no-extra-users"},
		{Rule: "no-hardcoded-credentials"},
		{Rule: "no-shell-history"},
		{Rule: "no-ssh-host-keys"},
		{Rule: "no-ssh-keys"},
		{Rule: "no-swap", Name: "no swap partition", Source: alibabaImageSpec},
		{Rule: "nvme-driver-at-boot", ID: "GUESTOS.Nvme", Name: "NVMe driver", Source: alibabaImageCheck},
		{Rule: "root-grows-at-first-boot", ID: "GUESTOS.OnlineResizeFS", Name: "online resizing of the root file system", Source: alibabaImageCheck},
		{Rule: "root-partition-last", Name: "root partition is the last partition", Source: alibabaImageSpec},
		{Rule: "security-center-agent-installed", Level: Advisory, ID: "GUESTOS.SecurityCenterAgent", Name: "Security Center agent", Source: alibabaImageCheck},
		{Rule: "security-updates-installed"},
		{Rule: "selinux-disabled", ID: "GUESTOS.Selinux", Name: "SELinux", Source: alibabaImageCheck},
		{Rule: "single-uid0"},
		{Rule: "supported-architecture", ID: "GUESTOS.Architecture", Name: "architecture", Source: alibabaImageCheck},
		{Rule: "supported-release", Name: "no end-of-life release", Source: alibabaImageSpec},
		{Rule: "system-disk-size", Name: "system disk of at least 20 GiB", Source: alibabaImageSpec},
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
