package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/report/reporttest"
)

// A --lang ja report of a real case, Markdown and workbook, holds no
// English word of the message catalogue; names, IDs, AWS's API names and
// what the case quotes (user agents, AWS's error messages, the threat
// research's words) aside. The cases cover an audit with the attacker's
// backdoor user in it, threat-actor indicators, a role session still
// working, derived keys and eradicated resources.
func TestJapaneseReportsOfRealCases(t *testing.T) {
	t.Parallel()
	for _, scenario := range []string{"github-push", "session-persistence", "llm-jacking"} {
		t.Run(scenario, func(t *testing.T) {
			caseDir, _ := scenarioCase(t, scenario)
			if scenario == "github-push" {
				if code, _, errOut := run(t, "audit", "--case", caseDir); code != ExitOK {
					t.Fatalf("audit: exit %d: %s", code, errOut)
				}
			}
			code, out, errOut := run(t, "report", "--case", caseDir, "--lang", "ja", "--tz", "Asia/Tokyo")
			if code != ExitOK {
				t.Fatalf("report: exit %d: %s", code, errOut)
			}
			for _, name := range []string{"report.ja.md", "report.ja.xlsx", "report.json"} {
				if !strings.Contains(out, filepath.Join(caseDir, name)) {
					t.Errorf("report did not write %s:\n%s", name, out)
				}
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
			quoted := reporttest.Quoted(doc)
			md, err := os.ReadFile(filepath.Join(caseDir, "report.ja.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, leak := range reporttest.EnglishLeaks(string(md), quoted...) {
				t.Errorf("report.ja.md: English word %s", leak)
			}
			x, err := excelize.OpenFile(filepath.Join(caseDir, "report.ja.xlsx"))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			var cells []string
			for _, sheet := range x.GetSheetList() {
				cells = append(cells, sheet)
				rows, err := x.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					cells = append(cells, strings.Join(r, " | "))
				}
			}
			for _, leak := range reporttest.EnglishLeaks(strings.Join(cells, "\n"), quoted...) {
				t.Errorf("report.ja.xlsx: English word %s", leak)
			}
		})
	}
}
