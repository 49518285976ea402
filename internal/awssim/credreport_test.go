package awssim

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// reportRows reads a credential report's CSV into maps by column name.
func reportRows(t *testing.T, content []byte) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(content))).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v", err)
	}
	header = recs[0]
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

func TestCredentialReportLifecycle(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)

	// Before any generation: ReportNotPresent, HTTP 410.
	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if apiCode(err) != "ReportNotPresent" || httpStatus(err) != 410 {
		t.Fatalf("get before generate: %v (status %d)", err, httpStatus(err))
	}

	old := f.key("admin") // the admin's second key
	f.sim.mu.Lock()
	f.sim.acct.Keys[old.AccessKeyID].Created = idtStart.Add(-200 * 24 * time.Hour)
	f.sim.mu.Unlock()
	if err := f.sim.AddUser("console", idtStart.Add(-10*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("console"), Password: aws.String("correct-horse-9")}); err != nil {
		t.Fatal(err)
	}
	root := f.sim.AddRootKey(idtStart.Add(-400 * 24 * time.Hour))

	gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if gen.State != iamtypes.ReportStateTypeStarted || aws.ToString(gen.Description) == "" {
		t.Fatalf("first generate: state %s, description %q", gen.State, aws.ToString(gen.Description))
	}
	startedAt := f.clock.Now()
	f.clock.Advance(2 * time.Second)
	gen, err = c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != iamtypes.ReportStateTypeComplete {
		t.Fatalf("second generate: %v, state %s", err, gen.State)
	}

	rep, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != iamtypes.ReportFormatTypeTextCsv {
		t.Errorf("ReportFormat = %q", rep.ReportFormat)
	}
	// The report is of the first (started) generation, not the second.
	if !aws.ToTime(rep.GeneratedTime).Equal(startedAt) {
		t.Errorf("GeneratedTime = %v, want %v", aws.ToTime(rep.GeneratedTime), startedAt)
	}
	header, rows := reportRows(t, rep.Content)
	if strings.Join(header, ",") != strings.Join(credentialReportColumns, ",") || len(header) != 22 {
		t.Fatalf("header = %v", header)
	}
	byUser := map[string]map[string]string{}
	for _, r := range rows {
		byUser[r["user"]] = r
	}
	if rows[0]["user"] != "<root_account>" || rows[0]["arn"] != "arn:aws:iam::123456789012:root" {
		t.Errorf("first row = %v, want the root user", rows[0])
	}
	if r := rows[0]; r["access_key_1_active"] != "true" || r["access_key_1_last_rotated"] != "2023-04-28T12:00:00+00:00" || r["password_enabled"] != "not_supported" {
		t.Errorf("root row = %v (root key %s)", r, root.AccessKeyID)
	}
	adm := byUser["admin"]
	// The admin's keys, oldest first: the 200-day-old one, then the one the
	// test calls with, last used just now in us-east-1 by IAM.
	if adm["access_key_1_last_rotated"] != "2023-11-14T12:00:00+00:00" || adm["access_key_1_last_used_date"] != "N/A" {
		t.Errorf("admin key 1: %v", adm)
	}
	if adm["access_key_2_active"] != "true" || adm["access_key_2_last_used_service"] != "iam" || adm["access_key_2_last_used_region"] != "us-east-1" {
		t.Errorf("admin key 2: %v", adm)
	}
	con := byUser["console"]
	if con["password_enabled"] != "true" || con["password_last_changed"] != "2024-06-01T12:00:00+00:00" || con["access_key_1_active"] != "false" || con["mfa_active"] != "false" {
		t.Errorf("console row: %v", con)
	}

	// Four hours later the report has expired; a new generation starts over.
	f.clock.Advance(credentialReportTTL)
	if _, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(err) != "ReportExpired" {
		t.Fatalf("get after four hours: %v", err)
	}
	gen, err = c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != iamtypes.ReportStateTypeStarted {
		t.Fatalf("generate after expiry: %v, %s", err, gen.State)
	}
}
