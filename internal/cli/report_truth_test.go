package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/xuri/excelize/v2"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/report/reporttest"
	"github.com/keyleak/keyleak/trail"
)

// scenarioCase contains and investigates a scenario and returns the case
// directory and the leaked key. prepare, when set, changes the account
// before keyleak runs; containment may then be partial.
func scenarioCase(t *testing.T, scenario string, prepare ...func(*awssim.Server)) (string, string) {
	t.Helper()
	srv := serveScenario(t, scenario, awssim.WithLookupRate(50, 50))
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	for _, p := range prepare {
		p(srv)
	}
	dir := t.TempDir()
	key := srv.Sim.LeakedKey()
	want := ExitOK
	if len(prepare) > 0 {
		want = ExitPartial
	}
	if code, _, errOut := run(t, "contain", "--key", key, "--yes", "--dir", dir); code != want {
		t.Fatalf("contain: exit %d, want %d: %s", code, want, errOut)
	}
	if code, _, errOut := run(t, "investigate", "--key", key, "--dir", dir, "--lookup-rate", "40"); code != ExitOK && code != ExitPartial {
		t.Fatalf("investigate: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-"+key+"-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	return cases[0], key
}

// On session-persistence the attacker's role session survives the key's
// deactivation and the owner's deny when the responder may not put a
// policy on the role (contain revokes it otherwise): every format names it
// and says it still works, and says the owner's tokens are denied.
// "Sessions revoked" alone would be false.
func TestReportNamesTheLiveRoleSession(t *testing.T) {
	t.Parallel()
	caseDir, _ := scenarioCase(t, "session-persistence", func(srv *awssim.Server) {
		r := srv.Sim.Responder()
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::*:role/etl-runner"}]}`
		_, err := iam.NewFromConfig(srv.Config(r, "us-east-1")).PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
			UserName: aws.String(r.UserName), PolicyName: aws.String("no-etl-runner"), PolicyDocument: aws.String(deny)})
		if err != nil {
			t.Fatal(err)
		}
	})
	if code, _, errOut := run(t, "report", "--case", caseDir, "--tz", "UTC"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	f, err := os.Open(filepath.Join(caseDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	var role report.Credential
	denied := 0
	for _, c := range doc.Credentials {
		switch {
		case c.Kind == report.CredRoleSession:
			role = c
		case (c.Kind == report.CredSessionToken || c.Kind == report.CredFederationToken) && c.State == report.CredDenied:
			denied++
		}
	}
	if role.ID == "" || role.State != report.CredWorking || !strings.HasSuffix(role.Role, "role/etl-runner") {
		t.Fatalf("JSON role session = %+v, want etl-runner still working (credentials %+v)", role, doc.Credentials)
	}
	if denied != 2 {
		t.Errorf("JSON: %d of the owner's tokens denied, want the session and the federation token", denied)
	}

	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	name := "role session of `etl-runner` (`" + role.ID + "`)"
	for _, w := range []string{"still working: " + name, "1 still works: " + name, "Revoke the sessions of role `etl-runner`"} {
		if !strings.Contains(string(md), w) {
			t.Errorf("report.md lacks %q", w)
		}
	}

	x, err := excelize.OpenFile(filepath.Join(caseDir, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(report.SheetKeys)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) > 4 && r[0] == role.ID {
			found = r[1] == "role session" && r[4] == "still works" && strings.HasSuffix(r[2], "role/etl-runner")
		}
	}
	if !found {
		t.Errorf("the workbook's Credentials sheet does not show %s still working: %q", role.ID, rows)
	}
	sum, _ := x.GetRows(report.SheetSummary)
	if !rowHas(sum, "Of those, still working", 1) {
		t.Errorf("the workbook's summary does not count the working role session")
	}
}

// After eradication the attacker's key is reported deleted (with its user),
// not "active" as the investigation last saw it, and the resources say
// they were removed by keyleak, not the error code AWS gave when asked
// for them afterwards.
func TestReportAfterEradicationIsLive(t *testing.T) {
	t.Parallel()
	caseDir, key := scenarioCase(t, "github-push")
	var found assess.Findings
	b, err := os.ReadFile(filepath.Join(caseDir, playbook.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &found); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tg := range assess.Targets(found.Resources, false) {
		ids = append(ids, tg.Key())
	}
	if code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", strings.Join(ids, ",")); code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--tz", "UTC"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	f, err := os.Open(filepath.Join(caseDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Credentials {
		if c.Kind == report.CredAccessKey && c.ID != key && c.State != report.CredDeleted {
			t.Errorf("attacker key %s reported %s after eradication", c.ID, c.State)
		}
		if c.State == report.CredWorking {
			t.Errorf("credential %s (%s) reported working after containment and eradication", c.ID, c.Kind)
		}
	}
	if doc.ResourcesReadAt.IsZero() {
		t.Error("the report does not say when the resources were read")
	}
	x, err := excelize.OpenFile(filepath.Join(caseDir, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows(report.SheetResources)
	for _, r := range rows[1:] {
		for _, c := range r {
			if c == "NoSuchEntity" || strings.HasSuffix(c, ".NotFound") || c == "ResourceNotFoundException" {
				t.Errorf("resources row shows an error code for a removed resource: %q", r)
			}
		}
		if r[4] != "removed by keyleak" {
			t.Errorf("resource %s is %q after eradication", r[1], r[4])
		}
	}
}

// The Timesketch timeline of github-push has one line per event of the
// case, each with message, datetime and timestamp_desc; the OCSF records
// are one per event too, with every attribute API Activity requires.
func TestReportForTimesketchAndOCSF(t *testing.T) {
	t.Parallel()
	caseDir, _ := scenarioCase(t, "github-push")
	code, out, errOut := run(t, "report", "--case", caseDir, "--format", "timesketch,ocsf")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	events, _, err := trail.ReadEventsFile(filepath.Join(caseDir, playbook.EventsFile))
	if err != nil || len(events) == 0 {
		t.Fatalf("case events: %d, %v", len(events), err)
	}
	for _, name := range []string{"report.timesketch.jsonl", "report.ocsf.json"} {
		if !strings.Contains(out, filepath.Join(caseDir, name)) {
			t.Errorf("report did not write %s:\n%s", name, out)
		}
	}
	ts, err := os.ReadFile(filepath.Join(caseDir, "report.timesketch.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reporttest.CheckTimesketch(t, ts, len(events))
	oc, err := os.ReadFile(filepath.Join(caseDir, "report.ocsf.json"))
	if err != nil {
		t.Fatal(err)
	}
	reporttest.CheckOCSF(t, oc, len(events))
}
