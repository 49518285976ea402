package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"sort"
	"strconv"
	"time"
)

// credentialReportTTL is how long a generated credential report is served:
// AWS makes a new one at most every four hours.
const credentialReportTTL = 4 * time.Hour

// credentialReportColumns is the header of IAM's credential report, in
// AWS's order.
var credentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// lastReportGeneration is the time of the latest GenerateCredentialReport
// call at or before now that started a report (answered STARTED). The account's CloudTrail
// is the simulator's memory of it: the request is recorded in us-east-1 like
// every IAM call, so nothing else needs to remember when a report was asked
// for. Called with mu held.
func (s *Sim) lastReportGeneration(now time.Time) (time.Time, bool) {
	rs := s.acct.region(globalRegion["iam"])
	if rs == nil {
		return time.Time{}, false
	}
	ev := rs.Trail.events
	for i := len(ev) - 1; i >= 0; i-- {
		e := ev[i]
		if e.Name == "GenerateCredentialReport" && e.Source == eventSource("iam") && e.ErrorCode == "" && !e.Time.After(now) &&
			bytes.Contains(e.Raw, []byte(`"state":"STARTED"`)) {
			return e.Time, true
		}
	}
	return time.Time{}, false
}

// iamGenerateCredentialReport starts a report when none was made in the last
// four hours (State STARTED) and answers COMPLETE otherwise. The simulator
// builds reports instantly, so a report is ready as soon as it is started;
// a client that polls until COMPLETE, as AWS asks, gets COMPLETE on its
// second call.
func iamGenerateCredentialReport(s *Sim, c *Call) (*Result, error) {
	res := &Result{}
	if at, ok := s.lastReportGeneration(c.Time); ok && c.Time.Sub(at) < credentialReportTTL {
		res.XML = []*Node{el("State", "COMPLETE")}
		res.Response = map[string]any{"state": "COMPLETE"}
		return res, nil
	}
	desc := "No report exists. Starting a new report generation task"
	res.XML = []*Node{el("State", "STARTED"), el("Description", desc)}
	res.Response = map[string]any{"state": "STARTED", "description": desc}
	return res, nil
}

// iamGetCredentialReport returns the report as base64 CSV. Its content is
// the account as it is when fetched (reports are built instantly) and its
// GeneratedTime the time the report was asked for.
func iamGetCredentialReport(s *Sim, c *Call) (*Result, error) {
	res := &Result{}
	at, ok := s.lastReportGeneration(c.Time)
	switch {
	case !ok:
		return res, errf(410, "ReportNotPresent", "Credential report not present. To generate a credential report, call GenerateCredentialReport.")
	case c.Time.Sub(at) >= credentialReportTTL:
		return res, errf(410, "ReportExpired", "Credential report has expired. To generate a new credential report, call GenerateCredentialReport.")
	}
	content, err := s.credentialReportCSV(at)
	if err != nil {
		return res, err
	}
	res.XML = []*Node{
		el("Content", base64.StdEncoding.EncodeToString(content)),
		el("ReportFormat", "text/csv"),
		el("GeneratedTime", isoTime(at)),
	}
	return res, nil
}

// reportTime is how the credential report writes times.
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// credentialReportCSV renders the report: the root user first, then the IAM
// users by name. Called with mu held.
func (s *Sim) credentialReportCSV(generated time.Time) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(credentialReportColumns); err != nil {
		return nil, err
	}
	rootCreated := generated
	for _, id := range s.acct.RootKeys {
		if k := s.acct.Keys[id]; k != nil && k.Created.Before(rootCreated) {
			rootCreated = k.Created
		}
	}
	for _, u := range s.acct.Users {
		if u.Created.Before(rootCreated) {
			rootCreated = u.Created
		}
	}
	root := []string{"<root_account>", "arn:aws:iam::" + s.acct.ID + ":root", reportTime(rootCreated),
		"not_supported", "N/A", "not_supported", "not_supported", "false"}
	root = append(root, reportKeyColumns(s.iamRootKeys())...)
	if err := w.Write(append(root, "false", "N/A", "false", "N/A")); err != nil {
		return nil, err
	}
	users := make([]*User, 0, len(s.acct.Users))
	for _, u := range s.acct.Users {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	for _, u := range users {
		// The simulator keeps no console sign-ins and has no MFA devices.
		row := []string{u.Name, s.iamUserARN(u), reportTime(u.Created), "false", "N/A", "N/A", "N/A", "false"}
		if u.LoginProfile != nil {
			row[3], row[5] = "true", reportTime(u.LoginProfile.Created)
		}
		row = append(row, reportKeyColumns(s.iamUserKeys(u.Name))...)
		if err := w.Write(append(row, "false", "N/A", "false", "N/A")); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// reportKeyColumns are the ten access_key_1_* and access_key_2_* columns of
// keys sorted by creation.
func reportKeyColumns(keys []*Credential) []string {
	var out []string
	for i := range 2 {
		if i >= len(keys) {
			out = append(out, "false", "N/A", "N/A", "N/A", "N/A")
			continue
		}
		k := keys[i]
		used, region, service := "N/A", "N/A", "N/A"
		if !k.LastUsed.IsZero() {
			used, region, service = reportTime(k.LastUsed), k.LastUsedRegion, k.LastUsedService
		}
		out = append(out, strconv.FormatBool(k.Status == "Active"), reportTime(k.Created), used, region, service)
	}
	return out
}
