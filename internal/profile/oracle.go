package profile

// Oracle Cloud Marketplace. Oracle validates each image against its mandatory guidelines for
// Linux images, each with an error code; the checks carry those codes and Oracle's words.
// G01 (boots on every compatible shape) and G08 (no IMDSv1) need a running instance and have no
// rule.

const oracleGuidelines = "Oracle Cloud Infrastructure Marketplace, Guidelines for Images: mandatory guidelines for Linux images, https://docs.oracle.com/en-us/iaas/Content/Marketplace/app-publisher-guidelines-images.htm"

var _ = register(
	Profile{Name: Oracle, Marketplace: MarketOracle, OS: Linux, Title: "Oracle Cloud Marketplace, Linux", Source: oracleGuidelines, Checks: []Check{
		{Rule: "no-ssh-host-keys", ID: "S01", Name: "SSH host keys must be unique to each instance", Source: oracleGuidelines},
		{Rule: "cloud-init-enabled", ID: "S08", Name: "Images must ingest an SSH public key provided by a customer as part of the instance launch process", Source: oracleGuidelines, Running: true},
		{Rule: "no-ssh-keys", ID: "S10", Name: "Any authorized_keys files must only contain keys provided by the user when the instance is launched", Source: oracleGuidelines},
		{Rule: "ssh-root-login-disabled", ID: "S14", Name: "Root user login must be disabled", Source: oracleGuidelines, Running: true},
		{Rule: "locked-accounts", ID: "S16", Name: "Images must not have any operating system level users configured with a password and must not have an empty password", Source: oracleGuidelines},
		{Rule: "no-mac-pinned-network", ID: "G03", Name: "Image must not have any hard-coded MAC addresses", Source: oracleGuidelines},
		{Rule: "first-nic-dhcp", ID: "G05", Name: "DHCP must be enabled", Source: oracleGuidelines, Running: true},
	}},
)
