package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyleak/keyleak/audit"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
)

// simFactory is a factory whose AWS calls go to the simulator as cred.
func simFactory(srv *awssim.Server, cred awssim.Credential, now func() time.Time) *Factory {
	return &Factory{Now: now, loadConfig: func(context.Context, awsapi.Options) (aws.Config, error) {
		return srv.Config(cred, "us-east-1"), nil
	}}
}

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)
	sim := awssim.New(awssim.WithClock(func() time.Time { return now }))
	for _, u := range []string{"admin", "ci"} {
		if err := sim.AddUser(u, now.AddDate(-1, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ := sim.AddAccessKey("admin", now.AddDate(0, 0, -3), "")
	old, _ := sim.AddAccessKey("ci", now.AddDate(0, 0, -120), "")
	if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "GetUser", Region: "us-east-1", AccessKeyID: old.AccessKeyID, Time: now.AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	f := simFactory(srv, *admin, func() time.Time { return now })
	code, out, errOut := runRecovery(t, f, "audit")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"old-key", "ci", old.AccessKeyID, "120 days old", "Recommendations:", "aws-vault"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "admin old-key") {
		t.Errorf("a 3-day-old key is reported old:\n%s", out)
	}

	code, out, _ = runRecovery(t, simFactory(srv, *admin, func() time.Time { return now }), "audit", "--max-age", "2d", "-o", "json")
	var res struct {
		audit.Report
		Recommendations []audit.Recommendation
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &res) != nil || len(res.Recommendations) == 0 {
		t.Fatalf("-o json: exit %d\n%s", code, out)
	}
	n := 0
	for _, f := range res.Findings {
		if f.Check == audit.CheckOldKey {
			n++
		}
	}
	if n != 2 || !strings.Contains(out, `"maxKeyAge": "2d"`) {
		t.Errorf("with --max-age 2d: %d old keys, want 2\n%s", n, out)
	}

	if code, _, errOut := runRecovery(t, simFactory(srv, *admin, nil), "audit", "--max-age", "soon"); code != ExitUsage || !strings.Contains(errOut, "--max-age") {
		t.Errorf("bad --max-age: exit %d, %q", code, errOut)
	}
}
