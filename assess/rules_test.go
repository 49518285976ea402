package assess_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/trail"
)

// record builds a CloudTrail record with the fields the rules read.
func record(t testing.TB, source, name string, fields map[string]any) trail.Event {
	t.Helper()
	r := map[string]any{
		"eventVersion": "1.09", "eventID": fmt.Sprintf("%s-%s-%d", source, name, len(fields)),
		"eventSource": source, "eventName": name, "awsRegion": "us-east-1",
		"eventTime": "2024-05-01T10:00:00Z", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
		"userIdentity": map[string]any{"type": "IAMUser", "userName": "ci", "accessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
	}
	for k, v := range fields {
		r[k] = v
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := trail.ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func builtin(t testing.TB) *assess.Catalog {
	t.Helper()
	c, err := assess.BuiltinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogCoversTheSpec checks that each call the issue lists is
// flagged, under its ATT&CK tactic or keyleak's category. Lambda code
// changes are Execution (T1648 Serverless Execution) and a sign-in token
// made from API credentials Lateral Movement (T1550.001), as ATT&CK has
// them.
func TestCatalogCoversTheSpec(t *testing.T) {
	cat := builtin(t)
	cases := []struct {
		source, name, category string
		fields                 map[string]any
	}{
		{"sts.amazonaws.com", "GetCallerIdentity", "discovery", nil},
		{"iam.amazonaws.com", "ListUsers", "discovery", nil},
		{"iam.amazonaws.com", "ListRoles", "discovery", nil},
		{"iam.amazonaws.com", "ListAccessKeys", "discovery", nil},
		{"iam.amazonaws.com", "GetAccountAuthorizationDetails", "discovery", nil},
		{"iam.amazonaws.com", "ListAttachedUserPolicies", "discovery", nil},
		{"ec2.amazonaws.com", "DescribeRegions", "discovery", nil},
		{"ec2.amazonaws.com", "DescribeInstances", "discovery", nil},
		{"s3.amazonaws.com", "ListBuckets", "discovery", nil},
		{"ses.amazonaws.com", "GetSendQuota", "discovery", nil},
		{"ses.amazonaws.com", "ListIdentities", "discovery", nil},
		{"sns.amazonaws.com", "GetSMSAttributes", "discovery", nil},
		{"bedrock.amazonaws.com", "ListFoundationModels", "discovery", nil},
		{"ce.amazonaws.com", "GetCostAndUsage", "discovery", nil},
		{"organizations.amazonaws.com", "DescribeOrganization", "discovery", nil},
		{"guardduty.amazonaws.com", "ListDetectors", "discovery", nil},
		{"iam.amazonaws.com", "CreateUser", "persistence", nil},
		{"iam.amazonaws.com", "CreateAccessKey", "persistence", nil},
		{"iam.amazonaws.com", "CreateLoginProfile", "persistence", nil},
		{"iam.amazonaws.com", "UpdateLoginProfile", "persistence", nil},
		{"iam.amazonaws.com", "CreateRole", "persistence", nil},
		{"iam.amazonaws.com", "UpdateAssumeRolePolicy", "persistence", nil},
		{"iam.amazonaws.com", "AddUserToGroup", "persistence", nil},
		{"sts.amazonaws.com", "GetSessionToken", "persistence", nil},
		{"sts.amazonaws.com", "GetFederationToken", "persistence", nil},
		{"signin.amazonaws.com", "GetSigninToken", "lateral-movement", nil},
		{"signin.amazonaws.com", "ConsoleLogin", "persistence", map[string]any{"userIdentity": map[string]any{"type": "FederatedUser"}}},
		{"lambda.amazonaws.com", "CreateFunction20150331", "execution", nil},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "execution", nil},
		{"lambda.amazonaws.com", "AddPermission20150331v2", "persistence", nil},
		{"ec2.amazonaws.com", "ImportKeyPair", "persistence", nil},
		{"ec2.amazonaws.com", "CreateKeyPair", "persistence", nil},
		{"ec2-instance-connect.amazonaws.com", "SendSSHPublicKey", "lateral-movement", nil},
		{"iam.amazonaws.com", "AttachUserPolicy", "privilege-escalation", map[string]any{"requestParameters": map[string]any{"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{"iam.amazonaws.com", "AttachRolePolicy", "privilege-escalation", map[string]any{"requestParameters": map[string]any{"policyArn": "arn:aws:iam::1:policy/x"}}},
		{"iam.amazonaws.com", "PutGroupPolicy", "privilege-escalation", map[string]any{"requestParameters": map[string]any{"policyName": "x"}}},
		{"iam.amazonaws.com", "CreatePolicyVersion", "privilege-escalation", nil},
		{"iam.amazonaws.com", "SetDefaultPolicyVersion", "privilege-escalation", nil},
		{"sts.amazonaws.com", "AssumeRole", "privilege-escalation", nil},
		{"cloudtrail.amazonaws.com", "StopLogging", "defense-evasion", nil},
		{"cloudtrail.amazonaws.com", "DeleteTrail", "defense-evasion", nil},
		{"cloudtrail.amazonaws.com", "UpdateTrail", "defense-evasion", nil},
		{"cloudtrail.amazonaws.com", "PutEventSelectors", "defense-evasion", nil},
		{"guardduty.amazonaws.com", "DeleteDetector", "defense-evasion", nil},
		{"guardduty.amazonaws.com", "UpdateDetector", "defense-evasion", nil},
		{"guardduty.amazonaws.com", "CreateIPSet", "defense-evasion", nil},
		{"config.amazonaws.com", "StopConfigurationRecorder", "defense-evasion", nil},
		{"ec2.amazonaws.com", "DeleteFlowLogs", "defense-evasion", nil},
		{"organizations.amazonaws.com", "LeaveOrganization", "defense-evasion", nil},
		{"bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration", "defense-evasion", nil},
		{"ec2.amazonaws.com", "RunInstances", "resource-hijacking", nil},
		{"ec2.amazonaws.com", "RequestSpotInstances", "resource-hijacking", nil},
		{"ec2.amazonaws.com", "StartInstances", "resource-hijacking", nil},
		{"ec2.amazonaws.com", "PurchaseReservedInstancesOffering", "resource-hijacking", nil},
		{"ecs.amazonaws.com", "CreateCluster", "resource-hijacking", nil},
		{"sagemaker.amazonaws.com", "CreateNotebookInstance", "resource-hijacking", nil},
		{"lightsail.amazonaws.com", "CreateInstances", "resource-hijacking", nil},
		{"codebuild.amazonaws.com", "CreateProject", "resource-hijacking", nil},
		{"glue.amazonaws.com", "CreateDevEndpoint", "resource-hijacking", nil},
		{"organizations.amazonaws.com", "CreateAccount", "resource-hijacking", nil},
		{"secretsmanager.amazonaws.com", "GetSecretValue", "credential-access", nil},
		{"ssm.amazonaws.com", "GetParameter", "credential-access", nil},
		{"ssm.amazonaws.com", "GetParameters", "credential-access", nil},
		{"ec2.amazonaws.com", "GetPasswordData", "credential-access", nil},
		{"s3.amazonaws.com", "PutBucketPolicy", "exfiltration", map[string]any{"requestParameters": map[string]any{"bucketPolicy": map[string]any{"Statement": []any{map[string]any{"Principal": "*"}}}}}},
		{"s3.amazonaws.com", "PutBucketAcl", "exfiltration", map[string]any{"requestParameters": map[string]any{"AccessControlPolicy": "http://acs.amazonaws.com/groups/global/AllUsers"}}},
		{"ec2.amazonaws.com", "ModifySnapshotAttribute", "exfiltration", map[string]any{"requestParameters": map[string]any{"createVolumePermission": map[string]any{"add": map[string]any{"items": []any{map[string]any{"userId": "111122223333"}}}}}}},
		{"ec2.amazonaws.com", "ModifyImageAttribute", "exfiltration", map[string]any{"requestParameters": map[string]any{"launchPermission": map[string]any{"add": map[string]any{"items": []any{map[string]any{"group": "all"}}}}}}},
		{"ec2.amazonaws.com", "CreateInstanceExportTask", "exfiltration", nil},
		{"kms.amazonaws.com", "ScheduleKeyDeletion", "impact", nil},
		{"kms.amazonaws.com", "PutKeyPolicy", "impact", nil},
		{"s3.amazonaws.com", "DeleteBucket", "impact", nil},
		{"bedrock.amazonaws.com", "InvokeModel", "llm-jacking", nil},
		{"bedrock.amazonaws.com", "InvokeModelWithResponseStream", "llm-jacking", nil},
		{"bedrock.amazonaws.com", "GetFoundationModelAvailability", "llm-jacking", nil},
		{"bedrock.amazonaws.com", "PutUseCaseForModelAccess", "llm-jacking", nil},
		{"bedrock.amazonaws.com", "CreateFoundationModelAgreement", "llm-jacking", nil},
		{"bedrock.amazonaws.com", "PutModelInvocationLoggingConfiguration", "llm-jacking", nil},
	}
	for _, c := range cases {
		e := record(t, c.source, c.name, c.fields)
		var cats []string
		for _, r := range cat.Match(&e) {
			cats = append(cats, r.Tactic, r.Category)
		}
		if !slices.Contains(cats, c.category) {
			t.Errorf("%s %s: tactics and categories %v, want %s", c.source, c.name, cats, c.category)
		}
	}
}

// TestRulesHaveATTACKTechniqueAndTactic checks every built-in rule names a
// technique keyleak knows, serving the rule's tactic.
func TestRulesHaveATTACKTechniqueAndTactic(t *testing.T) {
	for _, r := range builtin(t).Rules() {
		if r.Signal != "" {
			continue
		}
		tech, ok := assess.TechniqueOf(r.Technique)
		if !ok {
			t.Errorf("rule %s: technique %q is not in assess's ATT&CK table", r.ID, r.Technique)
			continue
		}
		if !slices.Contains(tech.Tactics, r.Tactic) {
			t.Errorf("rule %s: technique %s serves %v, not %s", r.ID, tech.ID, tech.Tactics, r.Tactic)
		}
	}
}

func TestTacticIsCheckedAgainstTechnique(t *testing.T) {
	dir := t.TempDir()
	bad := `rules:
  - id: site.wrong-tactic
    tactic: impact
    category: impact
    severity: high
    technique: T1136.003
    explanation: x
    action: x
    match:
      source: iam.amazonaws.com
      name: CreateUser
`
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := assess.LoadCatalog(dir); err == nil || !strings.Contains(err.Error(), "serves persistence, not impact") {
		t.Errorf("a technique under the wrong tactic loaded: %v", err)
	}
}

func TestUserAgentAndQuarantineRules(t *testing.T) {
	cat := builtin(t)
	cases := []struct {
		ua, want string
	}{
		{"TruffleHog", "tool.secret-scanner"},
		{"aws-cli/2.13.0 Python/3.11 Linux/6.5.0-kali3-amd64", "tool.offensive-os"},
		{"Boto3/1.9.0 Python/3.7 Linux/4.19 Botocore/1.12 Pacu", "tool.exploitation-framework"},
		{"S3 Browser 11.5.7 https://s3browser.com", "tool.s3-browser"},
	}
	for _, c := range cases {
		e := record(t, "sts.amazonaws.com", "GetCallerIdentity", map[string]any{"userAgent": c.ua})
		found := false
		for _, r := range cat.Match(&e) {
			found = found || r.ID == c.want
		}
		if !found {
			t.Errorf("user agent %q: %s did not match", c.ua, c.want)
		}
	}
	q := record(t, "iam.amazonaws.com", "AttachUserPolicy", map[string]any{"requestParameters": map[string]any{
		"userName": "ci", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}})
	rs := cat.Match(&q)
	if len(rs) != 1 || rs[0].Signal != "quarantine" {
		t.Errorf("quarantine attachment matched %v, want only the quarantine signal", ids(rs))
	}
}

func ids(rs []*assess.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestLoadCatalogFromDirectory(t *testing.T) {
	dir := t.TempDir()
	extra := `rules:
  - id: site.crypto-ami
    category: resource-hijacking
    severity: critical
    technique: T1496
    explanation: An AMI known to carry a miner was started.
    action: Terminate it.
    match:
      name: RunInstances
      request: {"": "ami-0badc0ffee"}
  - id: recon.get-caller-identity
    override: true
    category: discovery
    severity: low
    technique: T1087.004
    explanation: Overridden by the site.
    action: None.
    match:
      name: GetCallerIdentity
`
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(extra), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := assess.LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := cat.Rule("recon.get-caller-identity"); !ok || r.Severity != assess.SeverityLow {
		t.Errorf("override: got %+v", r)
	}
	e := record(t, "ec2.amazonaws.com", "RunInstances", map[string]any{"requestParameters": map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-0badc0ffee"}}}}})
	if got := ids(cat.Match(&e)); len(got) == 0 || got[0] != "site.crypto-ami" {
		t.Errorf("site rule: matched %v, want site.crypto-ami first", got)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "bad.yaml"), []byte("rules:\n  - id: x\n    category: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := assess.LoadCatalog(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("bad rule: err %v, want one naming the file and the rule", err)
	}
	// A reused ID without override: true is refused, naming both files:
	// a site rule never silently takes the place of a built-in one.
	clash := t.TempDir()
	if err := os.WriteFile(filepath.Join(clash, "site.yaml"), []byte(strings.Replace(extra, "    override: true\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := assess.LoadCatalog(clash); err == nil || !strings.Contains(err.Error(), "site.yaml") ||
		!strings.Contains(err.Error(), `"recon.get-caller-identity"`) || !strings.Contains(err.Error(), "rules/") || !strings.Contains(err.Error(), "override: true") {
		t.Errorf("reused built-in ID: err %v, want a refusal naming both files and override: true", err)
	}
	if _, err := assess.LoadCatalog(t.TempDir()); err == nil {
		t.Error("a rules directory without rule files loaded without error")
	}
}

// TestAccessDeniedBurst checks the sequence rule: 8 refusals in 10 minutes
// flag all of them; 7 do not.
func TestAccessDeniedBurst(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, n := range []int{7, 8} {
		inv := &trail.Investigation{Key: "AKIAAAAAAAAAAAAAAAAA", Keys: []trail.KeyLink{{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA"}}}
		for i := range n {
			e := record(t, "iam.amazonaws.com", fmt.Sprintf("ListThing%d", i), map[string]any{
				"errorCode": "AccessDenied", "eventTime": t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
			inv.Events = append(inv.Events, e)
		}
		a, err := assess.Assess(inv, assess.Options{LeakedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		flagged := 0
		for _, ea := range a.Events {
			for _, f := range ea.Flags {
				if f == "recon.access-denied-burst" {
					flagged++
				}
			}
		}
		want := map[int]int{7: 0, 8: 8}[n]
		if flagged != want {
			t.Errorf("%d refusals: %d flagged, want %d", n, flagged, want)
		}
	}
}
