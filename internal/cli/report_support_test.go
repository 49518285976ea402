package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
)

// supportCase contains and investigates github-push on a simulator with
// the given support plan and returns the case directory and the simulator.
func supportCase(t *testing.T, plan string) (string, *awssim.Sim) {
	t.Helper()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50), awssim.WithSupportPlan(plan))
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	dir := t.TempDir()
	key := srv.Sim.LeakedKey()
	if code, _, errOut := run(t, "contain", "--key", key, "--yes", "--dir", dir); code != ExitOK {
		t.Fatalf("contain: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "investigate", "--key", key, "--dir", dir, "--lookup-rate", "40"); code != ExitOK {
		t.Fatalf("investigate: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-"+key+"-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	return cases[0], srv.Sim
}

// report --support-case shows the reply, asks, posts it with the report
// attached, journals both calls, and never posts the same reply twice.
func TestReportRepliesToTheSupportCase(t *testing.T) {
	t.Parallel()
	caseDir, sim := supportCase(t, awssim.SupportBusiness)
	caseID := sim.SupportCaseID()

	// On a terminal it shows the reply and asks; "n" posts nothing.
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader("n\n"), Out: &out, ErrOut: &errOut, StdinTTY: true}
	if code := runFactory(context.Background(), testFactory(t, io), []string{"report", "--case", caseDir, "--format", "md", "--tz", "UTC", "--support-case", caseID}); code != ExitOK {
		t.Fatalf("declined reply: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "Reply to AWS support case "+caseID) || !strings.Contains(errOut.String(), "1. The key: ") ||
		!strings.Contains(errOut.String(), "Go ahead? [y/N]") {
		t.Errorf("the prompt does not show the reply:\n%s", errOut.String())
	}
	if sc, _ := sim.SupportCase(caseID); len(sc.Communications) != 0 {
		t.Fatalf("declined, yet posted: %+v", sc.Communications)
	}

	code, stdout, stderr := run(t, "report", "--case", caseDir, "--format", "md", "--tz", "UTC", "--support-case", caseID, "--yes")
	if code != ExitOK {
		t.Fatalf("reply: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Posted to support case "+caseID+", with report.md attached.") {
		t.Errorf("output does not say it posted:\n%s", stdout)
	}
	sc, _ := sim.SupportCase(caseID)
	if len(sc.Communications) != 1 {
		t.Fatalf("case communications = %+v", sc.Communications)
	}
	com := sc.Communications[0]
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1. The key: ", "2. CloudTrail reviewed: ", "3. Unauthorized resources: ", "4. Other credentials: ", "5. Still to do: ", "The attached report.md gives the detail"} {
		if !strings.Contains(com.Body, w) {
			t.Errorf("reply lacks %q:\n%s", w, com.Body)
		}
	}
	if strings.Contains(com.Body, "**") || strings.Contains(com.Body, "`") {
		t.Errorf("reply holds Markdown, which the Support Center shows as it is:\n%s", com.Body)
	}
	if len(com.Attachments) != 1 || com.Attachments[0].FileName != "report.md" || !bytes.Equal(com.Attachments[0].Data, md) {
		t.Errorf("attachment is not the report: %+v", com.Attachments)
	}
	entries, err := playbook.ReadJournal(filepath.Join(caseDir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, e := range entries {
		if e.Step == "support" && (e.Kind == playbook.KindIntent || e.Kind == playbook.KindOutcome) {
			calls[e.Action+" "+string(e.Kind)]++
		}
	}
	for _, k := range []string{"support:AddAttachmentsToSet intent", "support:AddAttachmentsToSet outcome",
		"support:AddCommunicationToCase intent", "support:AddCommunicationToCase outcome"} {
		if calls[k] != 1 {
			t.Errorf("journal has %d %s entries, want 1 (%v)", calls[k], k, calls)
		}
	}

	// Asked again with another reply (here in another zone), the prompt
	// says a reply was posted already. (The same reply is not posted
	// twice at all: the journal has its digest.)
	out.Reset()
	errOut.Reset()
	io = &IOStreams{In: strings.NewReader("n\n"), Out: &out, ErrOut: &errOut, StdinTTY: true}
	if code := runFactory(context.Background(), testFactory(t, io), []string{"report", "--case", caseDir, "--format", "md", "--tz", "Asia/Tokyo", "--support-case", caseID}); code != ExitOK {
		t.Fatalf("second reply: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "Reply to AWS support case "+caseID+" again (the last reply was posted at ") {
		t.Errorf("the prompt does not say a reply was posted already:\n%s", errOut.String())
	}
	if sc, _ := sim.SupportCase(caseID); len(sc.Communications) != 1 {
		t.Errorf("posted again after no: %d communications", len(sc.Communications))
	}
}

// Without a Business or Enterprise plan AWS refuses; keyleak says so and
// what to do instead, with the permission exit code, and the reports are
// written all the same.
func TestReportReplyRefusedWithoutSupportPlan(t *testing.T) {
	t.Parallel()
	caseDir, sim := supportCase(t, awssim.SupportBasic)
	code, _, stderr := run(t, "report", "--case", caseDir, "--format", "md", "--support-case", sim.SupportCaseID(), "--yes")
	if code != ExitAuth {
		t.Errorf("exit %d, want %d", code, ExitAuth)
	}
	if !strings.Contains(stderr, "Business or Enterprise support plan") || !strings.Contains(stderr, "Support Center") {
		t.Errorf("the refusal does not say why and what to do:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(caseDir, "report.md")); err != nil {
		t.Errorf("report not written: %v", err)
	}
}

func TestReportSupportCaseUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"report", "--case", dir, "--support-case", "case-1", "--offline"},
		{"report", "--case", dir, "--support-case", "case-1"}, // no terminal, no --yes
	} {
		if code, out, errOut := run(t, args...); code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, out %q, err %q", args, code, out, errOut)
		}
	}
}
