package profile

// AWS Marketplace (AMI products). AWS publishes no check IDs: each check carries the words of
// the policy or checklist item it comes from. The AMI self-service scanning tool runs the
// AMI; the checker decides the same things from the disk.

const (
	awsPolicies  = "AWS Marketplace, AMI-based product requirements (security, access and architecture policies), https://docs.aws.amazon.com/marketplace/latest/userguide/product-and-ami-policies.html (awsdocs/aws-marketplace-user-guide-for-sellers@224af2b:doc_source/product-and-ami-policies.md)"
	awsChecklist = "AWS Marketplace, AMI product checklist (AMI preparation), https://docs.aws.amazon.com/marketplace/latest/userguide/aws-marketplace-listing-checklist.html"
	awsSharedAMI = "Amazon EC2 User Guide, recommendations for creating shared Linux AMIs, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/building-shared-amis.html"
	awsWinShared = "Amazon EC2 User Guide, best practices for shared Windows AMIs, https://docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/windows-amis-guidelines.html"
)

var _ = register(
	Profile{Name: AWS, Marketplace: MarketAWS, OS: Linux, Title: "AWS Marketplace, Linux AMI", Source: awsPolicies + "; " + awsChecklist, Checks: []Check{
		{Rule: "ssh-password-auth-disabled", Name: "Linux-based AMIs must not allow SSH password authentication", Source: awsPolicies},
		{Rule: "ssh-root-password-login-disabled", Name: "Linux-based AMIs must disable password-based remote logins for root access", Source: awsPolicies + "; " + awsSharedAMI},
		{Rule: "locked-accounts", Name: "Linux-based AMIs must not have blank or null root passwords; AMIs must not use fixed passwords for administrative access", Source: awsPolicies},
		{Rule: "no-ssh-keys", Name: "AMIs must not contain authorized passwords or authorized keys", Source: awsPolicies + "; " + awsChecklist},
		{Rule: "no-hardcoded-credentials", Name: "AMIs must not contain passwords, authentication keys, key pairs, security keys, or other credentials for any reason", Source: awsPolicies + "; " + awsChecklist},
		{Rule: "security-updates-installed", Name: "AMIs must not contain any known vulnerabilities", Source: awsPolicies},
		{Rule: "no-malware", Name: "AMIs must not contain any known vulnerabilities, malware, or viruses", Source: awsPolicies},
		{Rule: "supported-release", Name: "AMIs must use currently supported operating systems and other software packages", Source: awsPolicies},
		{Rule: "supported-architecture", Name: "AMIs must use HVM virtualization; AMIs must use 64-bit or 64-bit ARM architecture", Source: awsPolicies + "; " + awsChecklist},
		{Rule: "no-encrypted-volumes", Name: "AMIs must not use encrypted file systems", Source: awsPolicies},
	}},
	Profile{Name: AWSWindows, Marketplace: MarketAWS, OS: Windows, Title: "AWS Marketplace, Windows AMI", Source: awsPolicies + "; " + awsChecklist, Checks: []Check{
		{Rule: "no-hardcoded-credentials", Name: "AMIs must not contain passwords, authentication keys, key pairs, security keys, or other credentials for any reason", Source: awsPolicies},
		{Rule: "windows-updates-current", Name: "AMIs must not contain any known vulnerabilities", Source: awsPolicies},
		{Rule: "no-malware", Name: "AMIs must not contain any known vulnerabilities, malware, or viruses", Source: awsPolicies},
		{Rule: "supported-release", Name: "AMIs must use currently supported operating systems and other software packages", Source: awsPolicies},
		{Rule: "windows-64-bit", Name: "AMIs must use 64-bit or 64-bit ARM architecture", Source: awsPolicies},
		{Rule: "windows-accounts-locked", Name: "Remove guest accounts and remote desktop users, none of which are allowed", Source: awsPolicies + "; " + awsWinShared},
		{Rule: "no-encrypted-volumes", Name: "AMIs must not use encrypted file systems", Source: awsPolicies},
		{Rule: "ec2-launch-agent", Name: "For instances launched from current generation AMIs, ensure that the latest launch agent is installed", Source: awsWinShared},
		{Rule: "ec2-launch-random-password", Name: "AMIs must not use fixed passwords for administrative access. AMIs must use a randomized password instead", Source: awsPolicies},
	}},
)
