package rules

// LISACase is one test case of Microsoft's image test suite LISA, suite AzureImageStandard
// (github.com/microsoft/lisa, lisa/microsoft/testsuites/core/azure_image_standard.py), and how
// this plugin decides the same thing offline: the rules that do, or why none can.
type LISACase struct {
	Name      string   `json:"name"`
	AppliesTo string   `json:"applies_to"`         // the distributions and platforms LISA runs it on
	Rules     []string `json:"rules,omitempty"`    // the rules deciding it from the disk
	Offline   string   `json:"offline,omitempty"`  // why no rule decides it, when none does
	Stricter  string   `json:"stricter,omitempty"` // where our rules fail more than LISA does, deliberately
}

const (
	runtimeOnly = "not decidable from the disk: "
	azureOnly   = "Azure only: "
)

// LISACases lists the 26 AzureImageStandard cases in the suite's order.
func LISACases() []LISACase {
	return []LISACase{
		{Name: "verify_default_targetpw", AppliesTo: "all", Rules: []string{"sudo-no-targetpw"}},
		{Name: "verify_grub", AppliesTo: "all but BSD", Rules: []string{"kernel-cmdline"},
			Offline: "numa=off for RHEL before 6.6 is not modelled (RHEL 6 left support in 2024)"},
		{Name: "verify_network_manager_not_installed", AppliesTo: "RHEL family before 7 (skipped on 7 and later)", Rules: []string{"distro-image-config"}},
		{Name: "verify_network_file_configuration", AppliesTo: "RHEL family, CBL-Mariner", Rules: []string{"distro-image-config"},
			Offline: "Fedora 39 and later: the suite asks NetworkManager for an active eth0 connection, which cloud-init creates at first boot; the rule warns when no profile ships"},
		{Name: "verify_ifcfg_eth0", AppliesTo: "RHEL family", Rules: []string{"distro-image-config"}},
		{Name: "verify_udev_rules_moved", AppliesTo: "CoreOS, RHEL family, CBL-Mariner", Rules: []string{"no-mac-pinned-network"},
			Stricter: "the rule looks for the persistent-net rules on every distribution, not only where the suite does"},
		{Name: "verify_dhcp_file_configuration", AppliesTo: "SUSE, CBL-Mariner", Rules: []string{"distro-image-config"}},
		{Name: "verify_yum_conf", AppliesTo: "RHEL family before 6.6", Rules: []string{"distro-image-config"}},
		{Name: "verify_os_update", AppliesTo: "all", Offline: runtimeOnly + "it updates the packages from the distribution's mirrors and reboots"},
		{Name: "verify_hv_kvp_daemon_installed", AppliesTo: "Debian family, CBL-Mariner, on a Hyper-V host", Offline: runtimeOnly + "it looks for a running hv_kvp_daemon process (and passes on Debian without one)"},
		{Name: "verify_repository_installed", AppliesTo: "all", Offline: runtimeOnly + "it runs the package manager's refresh against the mirrors"},
		{Name: "verify_serial_console_is_enabled", AppliesTo: "all", Rules: []string{"kernel-cmdline"},
			Stricter: "the suite passes on console=ttyS0 alone; the rule also warns on a missing earlyprintk=ttyS0 or rootdelay=300, as the self-test does"},
		{Name: "verify_bash_history_is_empty", AppliesTo: "all", Rules: []string{"no-shell-history"},
			Stricter: "the rule also fails REPL histories (.python_history, .mysql_history, ...), which the suite does not read"},
		{Name: "verify_boot_error_fail_warnings", AppliesTo: "all", Offline: runtimeOnly + "it reads the kernel log of a boot"},
		{Name: "verify_cloud_init_error_status", AppliesTo: "CBL-Mariner", Offline: runtimeOnly + "it reads cloud-init's status after provisioning"},
		{Name: "verify_client_active_interval", AppliesTo: "all", Rules: []string{"ssh-client-alive-interval"}},
		{Name: "verify_no_pre_exist_users", AppliesTo: "all", Rules: []string{"locked-accounts", "no-ssh-keys"},
			Stricter: "locked-accounts also fails an empty password field (the suite accepts it) and a password in /etc/passwd"},
		{Name: "verify_resource_disk_readme_file", AppliesTo: "Azure", Offline: azureOnly + "it reads the resource disk the agent mounts in a deployed VM"},
		{Name: "verify_resource_disk_file_system", AppliesTo: "Azure", Offline: azureOnly + "it reads the resource disk the agent mounts in a deployed VM"},
		{Name: "verify_waagent_version", AppliesTo: "Azure", Rules: []string{"azure-agent"}},
		{Name: "verify_python_version", AppliesTo: "Azure, QEMU", Rules: []string{"python-version"}},
		{Name: "verify_openssl_version", AppliesTo: "Azure, QEMU", Rules: []string{"openssl-version"}},
		{Name: "verify_azure_64bit_os", AppliesTo: "Azure, QEMU", Rules: []string{"userland-64bit"}},
		{Name: "verify_omi_version", AppliesTo: "Azure, QEMU", Rules: []string{"omi-version"}},
		{Name: "verify_no_swap_on_osdisk", AppliesTo: "Azure, QEMU", Rules: []string{"no-swap"}},
		{Name: "verify_essential_kernel_modules", AppliesTo: "Linux", Rules: []string{"kernel-essential-config"}},
	}
}

// LISARun is what `make lisa` records in docs/lisa-run.json: LISA's AzureImageStandard run
// against a booted copy of the hardened end-to-end guest, and this plugin's verdict on the same
// disk, case by case.
type LISARun struct {
	Date    string        `json:"date"`
	Guest   string        `json:"guest"`   // the distribution and kernel LISA found
	Image   string        `json:"image"`   // how the disk was made
	Seconds int           `json:"seconds"` // from the boot of the copy to LISA's last case
	Sources []LISASource  `json:"sources"` // LISA and the dependencies it ran with
	Cases   []LISACaseRun `json:"cases"`
}

// LISASource is a repository LISA ran from, at its commit.
type LISASource struct {
	Name       string `json:"name"`
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
}

// LISACaseRun is one case of the run: LISA's result and ours.
type LISACaseRun struct {
	Name      string            `json:"name"`
	Platform  string            `json:"platform,omitempty"` // the platform name it ran under (ready, qemu)
	LISA      string            `json:"lisa"`               // PASSED, FAILED, SKIPPED, or "not run" with the reason
	Message   string            `json:"message,omitempty"`  // LISA's reason for a skip or a failure
	Predicted string            `json:"predicted"`          // what our rules predict: Passed, Warning, Failed, NotApplicable, or "-"
	Rules     map[string]string `json:"rules,omitempty"`    // each rule's status on the same disk
	Agree     string            `json:"agree"`              // yes, no, or "-" when LISA did not decide the case here
}

// CasePrediction combines the certification results predicted by a case's rules: a Failed
// prediction wins, then Warning, then Passed; NotApplicable when every rule is.
func CasePrediction(predicted []string) string {
	out := "-"
	for _, want := range []string{"Failed", "Unknown", "Warning", "Passed", "NotApplicable"} {
		for _, p := range predicted {
			if p == want {
				return want
			}
		}
	}
	return out
}

// Agreement compares LISA's result with the prediction: yes, no, or "-" when LISA did not
// decide the case (skipped or not run here).
func Agreement(lisa, predicted string) string {
	switch lisa {
	case "PASSED":
		if predicted == "Passed" || predicted == "Warning" {
			return "yes"
		}
		return "no"
	case "FAILED":
		if predicted == "Failed" {
			return "yes"
		}
		return "no"
	}
	return "-"
}
