package assess

import (
	"regexp"
	"slices"
)

// Tactic is a MITRE ATT&CK Enterprise tactic.
type Tactic struct {
	ID   string `json:"id"`   // TA0040
	Name string `json:"name"` // Impact
	Slug string `json:"slug"` // impact: the form rules and reports use
}

// Tactics are ATT&CK Enterprise's tactics in the matrix's order, the order
// in which the report follows an attack. keyleak maps to ATT&CK v17, the
// version the Elastic and Sigma rule sets it is compared with were written
// for; v19's split of Defense Evasion into Stealth and Defense Impairment is
// not followed yet.
var Tactics = []Tactic{
	{"TA0043", "Reconnaissance", "reconnaissance"},
	{"TA0042", "Resource Development", "resource-development"},
	{"TA0001", "Initial Access", "initial-access"},
	{"TA0002", "Execution", "execution"},
	{"TA0003", "Persistence", "persistence"},
	{"TA0004", "Privilege Escalation", "privilege-escalation"},
	{"TA0005", "Defense Evasion", "defense-evasion"},
	{"TA0006", "Credential Access", "credential-access"},
	{"TA0007", "Discovery", "discovery"},
	{"TA0008", "Lateral Movement", "lateral-movement"},
	{"TA0009", "Collection", "collection"},
	{"TA0011", "Command and Control", "command-and-control"},
	{"TA0010", "Exfiltration", "exfiltration"},
	{"TA0040", "Impact", "impact"},
}

// TacticOf returns the tactic with the given slug.
func TacticOf(slug string) (Tactic, bool) {
	i := slices.IndexFunc(Tactics, func(t Tactic) bool { return t.Slug == slug })
	if i < 0 {
		return Tactic{}, false
	}
	return Tactics[i], true
}

// Technique is an ATT&CK technique or sub-technique and the tactics it
// serves.
type Technique struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Tactics []string `json:"tactics"` // slugs
}

const (
	taRecon      = "reconnaissance"
	taResDev     = "resource-development"
	taInitial    = "initial-access"
	taExec       = "execution"
	taPersist    = "persistence"
	taPrivEsc    = "privilege-escalation"
	taEvasion    = "defense-evasion"
	taCredAccess = "credential-access"
	taDiscovery  = "discovery"
	taLateral    = "lateral-movement"
	taCollection = "collection"
	taC2         = "command-and-control"
	taExfil      = "exfiltration"
	taImpact     = "impact"
)

// techniques are the ATT&CK (v17) techniques the built-in rules use, with
// their names and tactics, so that a rule's tactic is checked against its
// technique. Rules of a site (--rules) may use others; those are not
// checked.
var techniques = map[string]Technique{}

func init() {
	for _, t := range []Technique{
		{"T1020.001", "Automated Exfiltration: Traffic Duplication", []string{taExfil}},
		{"T1021.004", "Remote Services: SSH", []string{taLateral}},
		{"T1021.007", "Remote Services: Cloud Services", []string{taLateral}},
		{"T1059.009", "Command and Scripting Interpreter: Cloud API", []string{taExec}},
		{"T1069.003", "Permission Groups Discovery: Cloud Groups", []string{taDiscovery}},
		{"T1070", "Indicator Removal", []string{taEvasion}},
		{"T1078.004", "Valid Accounts: Cloud Accounts", []string{taEvasion, taPersist, taPrivEsc, taInitial}},
		{"T1087.004", "Account Discovery: Cloud Account", []string{taDiscovery}},
		{"T1090", "Proxy", []string{taC2}},
		{"T1098", "Account Manipulation", []string{taPersist, taPrivEsc}},
		{"T1098.001", "Account Manipulation: Additional Cloud Credentials", []string{taPersist, taPrivEsc}},
		{"T1098.003", "Account Manipulation: Additional Cloud Roles", []string{taPersist, taPrivEsc}},
		{"T1098.004", "Account Manipulation: SSH Authorized Keys", []string{taPersist, taPrivEsc}},
		{"T1098.005", "Account Manipulation: Device Registration", []string{taPersist, taPrivEsc}},
		{"T1098.006", "Account Manipulation: Additional Container Cluster Roles", []string{taPersist, taPrivEsc}},
		{"T1113", "Screen Capture", []string{taCollection}},
		{"T1136.003", "Create Account: Cloud Account", []string{taPersist}},
		{"T1201", "Password Policy Discovery", []string{taDiscovery}},
		{"T1484.002", "Domain or Tenant Policy Modification: Trust Modification", []string{taEvasion, taPrivEsc}},
		{"T1485", "Data Destruction", []string{taImpact}},
		{"T1486", "Data Encrypted for Impact", []string{taImpact}},
		{"T1489", "Service Stop", []string{taImpact}},
		{"T1490", "Inhibit System Recovery", []string{taImpact}},
		{"T1496", "Resource Hijacking", []string{taImpact}},
		{"T1496.001", "Resource Hijacking: Compute Hijacking", []string{taImpact}},
		{"T1496.003", "Resource Hijacking: SMS Pumping", []string{taImpact}},
		{"T1496.004", "Resource Hijacking: Cloud Service Hijacking", []string{taImpact}},
		{"T1518.001", "Software Discovery: Security Software Discovery", []string{taDiscovery}},
		{"T1526", "Cloud Service Discovery", []string{taDiscovery}},
		{"T1528", "Steal Application Access Token", []string{taCredAccess}},
		{"T1530", "Data from Cloud Storage", []string{taCollection}},
		{"T1531", "Account Access Removal", []string{taImpact}},
		{"T1535", "Unused/Unsupported Cloud Regions", []string{taEvasion}},
		{"T1537", "Transfer Data to Cloud Account", []string{taExfil}},
		{"T1546", "Event Triggered Execution", []string{taPersist, taPrivEsc}},
		{"T1548", "Abuse Elevation Control Mechanism", []string{taPrivEsc, taEvasion}},
		{"T1550.001", "Use Alternate Authentication Material: Application Access Token", []string{taEvasion, taLateral}},
		{"T1552", "Unsecured Credentials", []string{taCredAccess}},
		{"T1552.001", "Unsecured Credentials: Credentials In Files", []string{taCredAccess}},
		{"T1552.005", "Unsecured Credentials: Cloud Instance Metadata API", []string{taCredAccess}},
		{"T1555.006", "Credentials from Password Stores: Cloud Secrets Management Stores", []string{taCredAccess}},
		{"T1556.006", "Modify Authentication Process: Multi-Factor Authentication", []string{taCredAccess, taEvasion, taPersist}},
		{"T1562", "Impair Defenses", []string{taEvasion}},
		{"T1562.001", "Impair Defenses: Disable or Modify Tools", []string{taEvasion}},
		{"T1562.007", "Impair Defenses: Disable or Modify Cloud Firewall", []string{taEvasion}},
		{"T1562.008", "Impair Defenses: Disable or Modify Cloud Logs", []string{taEvasion}},
		{"T1578.001", "Modify Cloud Compute Infrastructure: Create Snapshot", []string{taEvasion}},
		{"T1578.002", "Modify Cloud Compute Infrastructure: Create Cloud Instance", []string{taEvasion}},
		{"T1578.003", "Modify Cloud Compute Infrastructure: Delete Cloud Instance", []string{taEvasion}},
		{"T1578.005", "Modify Cloud Compute Infrastructure: Modify Cloud Compute Configurations", []string{taEvasion}},
		{"T1580", "Cloud Infrastructure Discovery", []string{taDiscovery}},
		{"T1583.001", "Acquire Infrastructure: Domains", []string{taResDev}},
		{"T1584.002", "Compromise Infrastructure: DNS Server", []string{taResDev}},
		{"T1613", "Container and Resource Discovery", []string{taDiscovery}},
		{"T1619", "Cloud Storage Object Discovery", []string{taDiscovery}},
		{"T1648", "Serverless Execution", []string{taExec}},
		{"T1651", "Cloud Administration Command", []string{taExec}},
		{"T1654", "Log Enumeration", []string{taDiscovery}},
		{"T1666", "Modify Cloud Resource Hierarchy", []string{taEvasion}},
	} {
		techniques[t.ID] = t
	}
}

// TechniqueOf returns a technique the built-in rules use.
func TechniqueOf(id string) (Technique, bool) {
	t, ok := techniques[id]
	return t, ok
}

var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
