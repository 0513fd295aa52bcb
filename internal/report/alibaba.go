package report

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// AlibabaDetection has the shape of the DetectionOptions an Alibaba Cloud image check leaves on
// an image (DescribeImages, Images.Image[].DetectionOptions, after CreateImage or ImportImage
// with DetectionStrategy=Standard): the same field names, Status Processing or Finished, Items
// holding Item, a list of {Name, RiskCode, RiskLevel, Value}, RiskLevel High or Medium and, with
// RiskCode, only on an item at risk. The field names and values are those of the DescribeImages
// response documentation (as Alibaba's SDKs carry it, e.g. aliyun/alibabacloud-java-sdk
// ecs-20140526 DescribeImagesResponseBody: Name "Nvme", RiskCode "NVMe.NotInstallded", RiskLevel
// "High", Value "Supported"). What the check does not have is in one separate section,
// MarketplaceCheck: which rules stand behind each item, waivers, and the profile's other rules.
type AlibabaDetection struct {
	Status           string                `json:"Status"`
	Items            AlibabaDetectionItems `json:"Items"`
	MarketplaceCheck AlibabaExtra          `json:"MarketplaceCheck"`
}

// AlibabaDetectionItems is the Items wrapper of the documented response.
type AlibabaDetectionItems struct {
	Item []AlibabaDetectionItem `json:"Item"`
}

// AlibabaDetectionItem is one check item as DescribeImages reports it.
type AlibabaDetectionItem struct {
	Name      string `json:"Name"`
	RiskCode  string `json:"RiskCode,omitempty"`
	RiskLevel string `json:"RiskLevel,omitempty"` // High or Medium; only when the item is at risk
	Value     string `json:"Value"`
}

// AlibabaExtra is what this plugin adds beside the check's shape.
type AlibabaExtra struct {
	Tool  string `json:"Tool"`
	Image string `json:"Image"`
	// Items says, per item, which rules decided it, with their verdicts and waivers.
	Items []AlibabaItemSource `json:"Items"`
	// NotModelled lists the check's documented items no rule or image fact decides.
	NotModelled []string `json:"NotModelled"`
	// AdditionalChecks are the alibaba profile's rules that are no image check item (the image
	// requirements' disk layout, the best practices' cleanup).
	AdditionalChecks []AlibabaResult `json:"AdditionalChecks"`
}

// AlibabaItemSource ties an item to a rule. Actual is what the rule found, in this plugin's
// words (the item's Value is in the check's vocabulary).
type AlibabaItemSource struct {
	Name    string       `json:"Name"`
	Rule    string       `json:"Rule"`
	Status  rules.Status `json:"Status"`
	Level   string       `json:"Level"`
	Actual  string       `json:"Actual,omitempty"`
	Message string       `json:"Message"`
	Waiver  string       `json:"Waiver,omitempty"`
}

// AlibabaResult is one of the profile's other rules.
type AlibabaResult struct {
	Rule    string       `json:"Rule"`
	Title   string       `json:"Title"`
	Status  rules.Status `json:"Status"`
	Level   string       `json:"Level"`
	Message string       `json:"Message"`
	Value   string       `json:"Value,omitempty"`
	Waiver  string       `json:"Waiver,omitempty"`
}

// AlibabaItems are the image check's Linux items, in the order Alibaba's item list gives them
// (Server Migration Center, "Image check items"; the same GUESTOS.* names the profile data
// carries as check IDs). DescribeImages names an item without the "GUESTOS." prefix ("Nvme").
var AlibabaItems = []string{"Platform", "OSVersion", "Architecture", "RtcTimeMode", "BootMode", "KernelVersion", "Virtio", "Nvme",
	"Fstab", "Grub", "Dhcp", "Selinux", "OnlineResizeFS", "CloudInit", "SystemImage", "CloudAssistant", "SecurityCenterAgent"}

// alibabaProfile is the profile whose checks carry the items' IDs.
const alibabaProfile = "alibaba"

// documentedRiskCodes are the risk codes Alibaba's documentation gives, by item; another item
// at risk gets NAME.NotCompliant (NAME.Undetermined when it could not be decided). The NVMe code
// is spelt as documented.
var documentedRiskCodes = map[string]string{"Nvme": "NVMe.NotInstallded"}

// Values an item takes, in the check's vocabulary. Alibaba documents an item's Value as "the
// result of the check item" with the example "Supported" (DescribeImagesResponseBody
// ...DetectionOptions.Items.Item.Value in its SDKs, e.g. aliyun/alibabacloud-php-sdk
// ecs-20140526), and, per item, what the check reads: the RTC time standard "UTC or local", the
// boot mode "LEGACY or UEFI", the architecture "x86_64, arm64, i386", the kernel and OS versions
// (https://www.alibabacloud.com/help/en/ecs/user-guide/detect-custom-images-and-repair, "Image
// check items and repair suggestions"; https://www.alibabacloud.com/help/en/smc/user-guide/image-check-items).
// An image that starts by both is UEFI-Preferred, ImportImage's documented BootMode for it.
// An item with no value of its own is Supported or Unsupported; what no value could be decided
// for is Unknown (this plugin's word: Alibaba's check has no image it cannot read) and an item a
// rule found not applicable is NotApplicable.
const (
	alibabaSupported     = "Supported"
	alibabaUnsupported   = "Unsupported"
	alibabaUnknown       = "Unknown"
	alibabaNotApplicable = "NotApplicable"
)

// AlibabaItemValues are, per item that has values of its own, the values the check reports for
// it; any other item's Value is one of AlibabaResultValues. Platform, OSVersion and KernelVersion
// carry the image's own strings.
var AlibabaItemValues = map[string][]string{
	"RtcTimeMode":  {"UTC", "LOCAL"},
	"BootMode":     {"LEGACY", "UEFI", "UEFI-Preferred"},
	"Architecture": {"x86_64", "arm64", "i386"},
	"Platform":     {"Linux", "Windows"},
}

// AlibabaResultValues are the values of an item that has none of its own.
var AlibabaResultValues = []string{alibabaSupported, alibabaUnsupported, alibabaUnknown, alibabaNotApplicable}

// alibabaValue is an item's Value from the verdict on it and what its deciding rule found (the
// rule's Actual: the boot mode, the RTC standard, the machine names).
func alibabaValue(name string, status rules.Status, actual string) string {
	switch status {
	case rules.Error:
		return alibabaUnknown
	case rules.NotApplicable:
		return alibabaNotApplicable
	}
	generic := alibabaUnsupported
	if status == rules.Pass {
		generic = alibabaSupported
	}
	switch name {
	case "RtcTimeMode":
		if slices.Contains(AlibabaItemValues[name], actual) {
			return actual
		}
	case "BootMode":
		if v, ok := map[string]string{"BIOS": "LEGACY", "UEFI": "UEFI", "UEFI-Preferred": "UEFI-Preferred"}[actual]; ok {
			return v
		}
	case "Architecture":
		// the machine names found (userland and kernel), as the check spells them: aarch64 is arm64
		var names []string
		for _, m := range strings.Split(actual, ", ") {
			if m == "aarch64" {
				m = "arm64"
			}
			if !slices.Contains(AlibabaItemValues[name], m) {
				return generic // a machine the check has no name for
			}
			if !slices.Contains(names, m) {
				names = append(names, m)
			}
		}
		if len(names) == 1 {
			return names[0]
		}
	}
	return generic
}

// itemRank orders statuses for an item several rules decide: the worst is reported.
func itemRank(s rules.Status) int {
	return map[rules.Status]int{rules.NotApplicable: 0, rules.Pass: 1, rules.Warn: 2, rules.Waived: 3, rules.Fail: 3, rules.Error: 4}[s]
}

// AlibabaDetection converts the report's alibaba findings.
func (r *Report) AlibabaDetection() *AlibabaDetection {
	out := &AlibabaDetection{Status: "Finished", Items: AlibabaDetectionItems{Item: []AlibabaDetectionItem{}},
		MarketplaceCheck: AlibabaExtra{Tool: strings.TrimSpace(r.Tool + " " + r.Version), Image: r.Image.Path,
			Items: []AlibabaItemSource{}, NotModelled: []string{}, AdditionalChecks: []AlibabaResult{}}}
	type decided struct {
		status  rules.Status
		level   string
		actual  string // the deciding rule's Actual
		sources []AlibabaItemSource
	}
	byItem := map[string]*decided{}
	for _, f := range r.Findings {
		waiver := ""
		if f.Waiver != nil {
			waiver = f.Waiver.Reason
		}
		for _, c := range f.Checks {
			if c.Profile != alibabaProfile {
				continue
			}
			name, ok := strings.CutPrefix(c.ID, "GUESTOS.")
			if !ok {
				out.MarketplaceCheck.AdditionalChecks = append(out.MarketplaceCheck.AdditionalChecks, AlibabaResult{Rule: f.Rule, Title: f.Title,
					Status: f.Status, Level: c.Level, Message: f.Message, Value: f.Actual, Waiver: waiver})
				continue
			}
			d := byItem[name]
			if d == nil {
				d = &decided{status: rules.NotApplicable}
				byItem[name] = d
			}
			if d.sources == nil || itemRank(f.Status) > itemRank(d.status) || itemRank(f.Status) == itemRank(d.status) && c.Level == "required" {
				d.status, d.level, d.actual = f.Status, c.Level, f.Actual
			}
			d.sources = append(d.sources, AlibabaItemSource{Name: name, Rule: f.Rule, Status: f.Status, Level: c.Level, Actual: f.Actual, Message: f.Message, Waiver: waiver})
		}
	}
	// render is an item as the check reports it: a value, and a risk when it is at risk
	render := func(name string, d *decided) AlibabaDetectionItem {
		it := AlibabaDetectionItem{Name: name, Value: alibabaValue(name, d.status, d.actual)}
		switch d.status {
		case rules.Pass, rules.NotApplicable:
		case rules.Error:
			it.RiskCode, it.RiskLevel = name+".Undetermined", "High"
		default:
			// a failure, a warning, or a waived failure (the check knows nothing of waivers)
			it.RiskCode, it.RiskLevel = name+".NotCompliant", "High"
			if code, ok := documentedRiskCodes[name]; ok {
				it.RiskCode = code
			}
			if d.status == rules.Warn || d.level == "advisory" {
				it.RiskLevel = "Medium"
			}
		}
		return it
	}
	// the items image facts decide
	platform := ""
	switch {
	case strings.Contains(r.Image.Root, "Windows"):
		platform = "Windows"
	case r.Image.Root != "":
		platform = "Linux"
	}
	facts := map[string]string{"Platform": platform, "OSVersion": strings.TrimSpace(r.Image.OSName + " " + r.Image.OSVersion), "KernelVersion": r.Image.Kernel}
	for _, name := range AlibabaItems {
		d := byItem[name]
		if d == nil {
			v, isFact := facts[name]
			switch {
			case !isFact:
				out.MarketplaceCheck.NotModelled = append(out.MarketplaceCheck.NotModelled, "GUESTOS."+name)
				continue
			case v == "":
				// what the check reads was not found: the item is at risk, never passed
				out.Items.Item = append(out.Items.Item, AlibabaDetectionItem{Name: name, RiskCode: name + ".Undetermined", RiskLevel: "High", Value: alibabaUnknown})
			default:
				out.Items.Item = append(out.Items.Item, AlibabaDetectionItem{Name: name, Value: v})
			}
			continue
		}
		out.Items.Item = append(out.Items.Item, render(name, d))
		out.MarketplaceCheck.Items = append(out.MarketplaceCheck.Items, d.sources...)
	}
	// items the profile names that Alibaba's list does not (kept, after the documented ones)
	var extra []string
	for name := range byItem {
		if !slices.Contains(AlibabaItems, name) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		d := byItem[name]
		out.Items.Item = append(out.Items.Item, render(name, d))
		out.MarketplaceCheck.Items = append(out.MarketplaceCheck.Items, d.sources...)
	}
	return out
}

// WriteAlibabaDetection writes the DetectionOptions-shaped JSON report.
func (r *Report) WriteAlibabaDetection(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.AlibabaDetection())
}
