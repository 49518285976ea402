package report_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/report/reporttest"
)

// japaneseModel is the fixture as a real case gives it: the quarantine in
// fields, not a sentence.
func japaneseModel() *report.Model {
	m := report.FixtureModel()
	m.Case.DetectedBy, m.Case.QuarantinePolicy, m.Case.QuarantinedUser = "", "AWSCompromisedKeyQuarantineV3", "deploy-bot"
	m.Case.LeakedAtInferred = true
	m.Case.LeakClues = []report.LeakClue{
		{Kind: report.ClueNewSource, Time: m.Case.LeakedAt, SourceIP: "203.0.113.7", UserAgent: "aws-cli/2"},
		{Kind: report.ClueQuarantine, Time: m.Case.DetectedAt, Policy: "AWSCompromisedKeyQuarantineV3", User: "deploy-bot"},
	}
	return m
}

// dataOf is what the model quotes as it is.
func dataOf(t *testing.T, m *report.Model) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	d, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return reporttest.Quoted(d)
}

// A Japanese report holds no English word of the message catalogue: every
// fixed text is translated, and only names, IDs, AWS's API names and the
// data quoted from the case stay as they are.
func TestJapaneseHasNoCatalogueEnglish(t *testing.T) {
	if len(reporttest.EnglishWords()) < 300 {
		t.Fatalf("only %d English words found in the catalogue", len(reporttest.EnglishWords()))
	}
	tokyo := time.FixedZone("JST", 9*3600)
	m := japaneseModel()
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, m, report.MarkdownOptions{Lang: "ja", TZ: tokyo}); err != nil {
		t.Fatal(err)
	}
	for _, leak := range reporttest.EnglishLeaks(md.String(), dataOf(t, m)...) {
		t.Errorf("Markdown: English word %s", leak)
	}

	var xb bytes.Buffer
	if err := report.WriteXLSX(&xb, m, report.XLSXOptions{Lang: "ja", TZ: tokyo}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&xb)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cells []string
	for _, sheet := range f.GetSheetList() {
		cells = append(cells, sheet)
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			cells = append(cells, strings.Join(r, " | "))
		}
	}
	for _, leak := range reporttest.EnglishLeaks(strings.Join(cells, "\n"), dataOf(t, m)...) {
		t.Errorf("workbook: English word %s", leak)
	}
	if got := f.GetSheetList(); got[0] != "概要" || got[1] != "タイムライン" {
		t.Errorf("sheets = %q, want Japanese names", got)
	}
	rows, _ := f.GetRows("タイムライン")
	if want := []string{"時刻（JST）", "判定", "重要度", "イベント名", "リージョン"}; !slices.Equal(rows[0][:5], want) {
		t.Errorf("timeline headers = %q, want %q", rows[0][:5], want)
	}
}

// The check finds what it is for: an English word of the catalogue left in
// Japanese text.
func TestEnglishLeaksFindsLeftovers(t *testing.T) {
	leaks := reporttest.EnglishLeaks("キー `AKIA5EXAMPLELEAK0001` は removed by keyleak、状態 still present。")
	if len(leaks) < 3 {
		t.Errorf("leaks = %q, want removed, still, present", leaks)
	}
	if leaks := reporttest.EnglishLeaks("`iam:DeleteUser` で削除、us-east-1、IAM Identity Center、keyleak audit --case"); len(leaks) != 0 {
		t.Errorf("names and code reported as English: %q", leaks)
	}
}
