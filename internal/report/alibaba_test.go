package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// detectionSchema is DescribeImages' DetectionOptions as Alibaba documents it (the response
// model of aliyun/alibabacloud-java-sdk ecs-20140526, DescribeImagesResponseBody,
// DescribeImagesResponseBodyImagesImageDetectionOptions*): the object's fields, Status's valid
// values ("Processing", "Finished"), Items holding Item, a list of objects whose fields are Name,
// RiskCode, RiskLevel and Value; RiskLevel's valid values "High" and "Medium", returned only
// when the item is at risk. MarketplaceCheck is this plugin's own section beside it.
var detectionSchema = struct {
	fields, itemFields, status, riskLevels []string
}{
	fields:     []string{"Status", "Items", "MarketplaceCheck"},
	itemFields: []string{"Name", "RiskCode", "RiskLevel", "Value"},
	status:     []string{"Processing", "Finished"},
	riskLevels: []string{"High", "Medium"},
}

// validateDetection checks a written report against the schema and fails the test with every
// difference; it returns the items.
func validateDetection(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	items, errs := detectionErrors(b)
	for _, e := range errs {
		t.Error(e)
	}
	return items
}

// detectionErrors checks a written report against the schema, field by field.
func detectionErrors(b []byte) (out []map[string]any, errs []string) {
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		bad("not JSON: %v", err)
		return nil, errs
	}
	keys := func(m map[string]any) []string {
		var k []string
		for n := range m {
			k = append(k, n)
		}
		sort.Strings(k)
		return k
	}
	for _, k := range keys(doc) {
		if !slices.Contains(detectionSchema.fields, k) {
			bad("field %q is not a DetectionOptions field", k)
		}
	}
	if s, ok := doc["Status"].(string); !ok || !slices.Contains(detectionSchema.status, s) {
		bad("Status %v is not one of %v", doc["Status"], detectionSchema.status)
	}
	items, ok := doc["Items"].(map[string]any)
	if !ok || len(items) != 1 {
		bad("Items is %v, want an object holding Item", doc["Items"])
		return nil, errs
	}
	list, ok := items["Item"].([]any)
	if !ok {
		bad("Items.Item is %T, want a list", items["Item"])
		return nil, errs
	}
	for i, x := range list {
		it, ok := x.(map[string]any)
		if !ok {
			bad("item %d is %T", i, x)
			continue
		}
		for _, k := range keys(it) {
			if !slices.Contains(detectionSchema.itemFields, k) {
				bad("item %d: field %q is not an item field", i, k)
			}
			if _, ok := it[k].(string); !ok {
				bad("item %d: %s is %T, want a string", i, k, it[k])
			}
		}
		n, _ := it["Name"].(string)
		if n == "" || it["Value"] == nil {
			bad("item %d lacks Name or Value: %v", i, it)
		}
		if v, _ := it["Value"].(string); !documentedValue(n, v) {
			bad("item %d: %s's Value %q is not one the check reports", i, n, v)
		}
		lvl, hasLevel := it["RiskLevel"].(string)
		_, hasCode := it["RiskCode"]
		if hasLevel != hasCode {
			bad("item %d: RiskLevel and RiskCode come together (at risk) or not at all: %v", i, it)
		}
		if hasLevel && !slices.Contains(detectionSchema.riskLevels, lvl) {
			bad("item %d: RiskLevel %v is not one of %v", i, lvl, detectionSchema.riskLevels)
		}
		out = append(out, it)
	}
	return out, errs
}

// freeValues are the items whose Value is the image's own string (a version).
var freeValues = []string{"OSVersion", "KernelVersion"}

// documentedValue reports whether v is a Value Alibaba documents for the item: the item's own
// values (AlibabaItemValues) or the result of the check (AlibabaResultValues); an OS or kernel
// version is the image's string.
func documentedValue(name, v string) bool {
	if slices.Contains(freeValues, name) {
		return v != ""
	}
	return slices.Contains(AlibabaItemValues[name], v) || slices.Contains(AlibabaResultValues, v)
}

func check(profile, level, id string) []MarketCheck {
	return []MarketCheck{{Profile: profile, Level: level, ID: id}}
}

func TestAlibabaDetectionShape(t *testing.T) {
	r := &Report{Tool: "marketplace-check", Version: "1.2.3",
		Image: ImageInfo{Path: "img.qcow2", Root: "partition 4 (xfs)", OSName: "Debian GNU/Linux", OSVersion: "12", Kernel: "6.1.0-28-cloud-amd64"},
		Findings: []Finding{
			{Rule: "virtio-drivers-at-boot", Status: rules.Pass, Actual: "virtio_blk is in the initramfs", Message: "virtio at boot", Checks: check("alibaba", "required", "GUESTOS.Virtio")},
			{Rule: "nvme-driver-at-boot", Status: rules.Fail, Actual: "Unsupported", Message: "no nvme", Checks: check("alibaba", "required", "GUESTOS.Nvme")},
			{Rule: "hardware-clock-utc", Status: rules.Fail, Actual: "LOCAL", Message: "local", Checks: check("alibaba", "advisory", "GUESTOS.RtcTimeMode")},
			{Rule: "first-nic-dhcp", Status: rules.Fail, Actual: "/etc/network/interfaces: eth0 is static", Message: "static", Checks: check("alibaba", "required", "GUESTOS.Dhcp")},
			{Rule: "cloud-init-enabled", Status: rules.NotApplicable, Message: "n/a", Checks: check("alibaba", "required", "GUESTOS.CloudInit")},
			{Rule: "selinux-disabled", Status: rules.Warn, Actual: "enforcing", Message: "enforcing", Checks: check("alibaba", "required", "GUESTOS.Selinux")},
			{Rule: "boot-mode-consistent", Status: rules.Error, Message: "ESP unreadable", Checks: check("alibaba", "required", "GUESTOS.BootMode")},
			{Rule: "supported-architecture", Status: rules.Pass, Actual: "aarch64", Checks: check("alibaba", "required", "GUESTOS.Architecture")},
			// two rules decide one item: the worse is reported, both are named
			{Rule: "boot-devices-resolve", Status: rules.Pass, Checks: check("alibaba", "required", "GUESTOS.Fstab")},
			{Rule: "no-mac-pinned-network", Status: rules.Fail, Actual: "pinned", Message: "MAC", Checks: check("alibaba", "required", "GUESTOS.Fstab"),
				Waiver: &plan.Waiver{Rule: "no-mac-pinned-network", Reason: "known"}},
			{Rule: "root-partition-last", Status: rules.Pass, Message: "last", Checks: check("alibaba", "required", "")},
			// another profile's check: not in this report
			{Rule: "kernel-cmdline", Status: rules.Fail, Checks: check("azure-linux", "required", "")},
		}}
	var buf bytes.Buffer
	if err := r.WriteAlibabaDetection(&buf); err != nil {
		t.Fatal(err)
	}
	items := validateDetection(t, buf.Bytes())
	got := map[string]string{}
	var order []string
	for _, it := range items {
		s := fmt.Sprint(it["Value"])
		if it["RiskLevel"] != nil {
			s += " " + fmt.Sprint(it["RiskLevel"]) + " " + fmt.Sprint(it["RiskCode"])
		}
		got[fmt.Sprint(it["Name"])] = s
		order = append(order, fmt.Sprint(it["Name"]))
	}
	want := map[string]string{
		"Platform":      "Linux",
		"OSVersion":     "Debian GNU/Linux 12",
		"Architecture":  "arm64", // aarch64 as the check spells it
		"KernelVersion": "6.1.0-28-cloud-amd64",
		"Virtio":        "Supported",                           // not our sentence: that is in MarketplaceCheck
		"Nvme":          "Unsupported High NVMe.NotInstallded", // the documented code
		"RtcTimeMode":   "LOCAL Medium RtcTimeMode.NotCompliant",
		"Selinux":       "Unsupported Medium Selinux.NotCompliant",
		"BootMode":      "Unknown High BootMode.Undetermined",
		"Fstab":         "Unsupported High Fstab.NotCompliant", // a waiver does not change what the check sees
		"Dhcp":          "Unsupported High Dhcp.NotCompliant",
		"CloudInit":     "NotApplicable",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("items %v, want %v", got, want)
	}
	if strings.Join(order[:4], " ") != "Platform OSVersion Architecture RtcTimeMode" {
		t.Errorf("order %v does not follow Alibaba's list", order)
	}
	d := r.AlibabaDetection()
	if d.Status != "Finished" || len(d.MarketplaceCheck.AdditionalChecks) != 1 || d.MarketplaceCheck.AdditionalChecks[0].Rule != "root-partition-last" {
		t.Errorf("status %s, additional %+v", d.Status, d.MarketplaceCheck.AdditionalChecks)
	}
	var fstab []string
	for _, s := range d.MarketplaceCheck.Items {
		if s.Name == "Fstab" {
			fstab = append(fstab, s.Rule+":"+s.Waiver)
		}
	}
	if strings.Join(fstab, ",") != "boot-devices-resolve:,no-mac-pinned-network:known" {
		t.Errorf("Fstab sources %v", fstab)
	}
	// our explanation stays, beside the item, in our section
	explained := map[string]string{}
	for _, s := range d.MarketplaceCheck.Items {
		explained[s.Rule] = s.Actual
	}
	if explained["virtio-drivers-at-boot"] != "virtio_blk is in the initramfs" || explained["first-nic-dhcp"] != "/etc/network/interfaces: eth0 is static" {
		t.Errorf("MarketplaceCheck.Items lost the rules' Actual: %v", explained)
	}
	for _, n := range []string{"GUESTOS.Grub", "GUESTOS.SecurityCenterAgent"} {
		if !slices.Contains(d.MarketplaceCheck.NotModelled, n) {
			t.Errorf("NotModelled %v lacks %s", d.MarketplaceCheck.NotModelled, n)
		}
	}
}

// An image whose OS was not found: the fact items are at risk, never passed.
func TestAlibabaDetectionUnknownImage(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Report{}).WriteAlibabaDetection(&buf); err != nil {
		t.Fatal(err)
	}
	for _, it := range validateDetection(t, buf.Bytes()) {
		if it["RiskLevel"] != "High" || !strings.HasSuffix(fmt.Sprint(it["RiskCode"]), ".Undetermined") {
			t.Errorf("item %v of an image with no OS found is not at risk", it)
		}
	}
}

// The schema check itself catches what it should: a field the documentation does not have, a
// level it does not list, a risk code without its level.
func TestDetectionSchemaRejects(t *testing.T) {
	for _, bad := range []string{
		`{"Status":"Done","Items":{"Item":[]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"Nvme","Value":"x","RiskLevel":"Low","RiskCode":"c"}]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"Nvme","Value":"x","RiskCode":"c"}]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"Nvme","Value":"x","Severity":"High"}]}}`,
		`{"Status":"Finished","Extra":1,"Items":{"Item":[]}}`,
		// our sentence, or our spelling, where the check has its own vocabulary
		`{"Status":"Finished","Items":{"Item":[{"Name":"Virtio","Value":"virtio_blk is a module and not in the initramfs"}]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"BootMode","Value":"BIOS"}]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"Architecture","Value":"aarch64"}]}}`,
		`{"Status":"Finished","Items":{"Item":[{"Name":"Selinux","Value":"Passed"}]}}`,
	} {
		if _, errs := detectionErrors([]byte(bad)); len(errs) == 0 {
			t.Errorf("the schema accepts %s", bad)
		}
	}
}

// The check's vocabulary from a rule's verdict and Actual.
func TestAlibabaValue(t *testing.T) {
	for _, c := range []struct {
		name   string
		status rules.Status
		actual string
		want   string
	}{
		{"BootMode", rules.Pass, "BIOS", "LEGACY"},
		{"BootMode", rules.Pass, "UEFI", "UEFI"},
		{"BootMode", rules.Pass, "UEFI-Preferred", "UEFI-Preferred"},
		{"BootMode", rules.Warn, "UEFI", "UEFI"},
		{"BootMode", rules.Fail, "none", "Unsupported"},
		{"BootMode", rules.Error, "UEFI", "Unknown"},
		{"RtcTimeMode", rules.Pass, "UTC", "UTC"},
		{"RtcTimeMode", rules.Warn, "UTC", "UTC"}, // an unrecognised third line: systemd reads UTC
		{"RtcTimeMode", rules.Fail, "LOCAL", "LOCAL"},
		{"Architecture", rules.Pass, "x86_64", "x86_64"},
		{"Architecture", rules.Pass, "aarch64", "arm64"},
		{"Architecture", rules.Fail, "i386", "i386"},
		{"Architecture", rules.Fail, "x86_64, aarch64", "Unsupported"}, // userland and kernel differ
		{"Architecture", rules.Fail, "EM_SPARCV9", "Unsupported"},
		{"Architecture", rules.Fail, "riscv64", "Unsupported"}, // a machine Alibaba's check names no value for
		{"Virtio", rules.Pass, "virtio_blk is built in", "Supported"},
		{"Virtio", rules.Waived, "virtio_blk is a module", "Unsupported"},
		{"Nvme", rules.NotApplicable, "", "NotApplicable"},
	} {
		if got := alibabaValue(c.name, c.status, c.actual); got != c.want {
			t.Errorf("%s %s %q: %q, want %q", c.name, c.status, c.actual, got, c.want)
		}
		if got := alibabaValue(c.name, c.status, c.actual); !documentedValue(c.name, got) {
			t.Errorf("%s: %q is not documented", c.name, got)
		}
	}
}
