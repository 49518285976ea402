package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
)

// removalTargets are the case's attacker resources, as --only takes them.
func removalTargets(t *testing.T, caseDir string) []playbook.Target {
	t.Helper()
	var f assess.Findings
	b, err := os.ReadFile(filepath.Join(caseDir, playbook.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return assess.Targets(f.Resources, false)
}

func keys(ts []playbook.Target) string {
	var out []string
	for _, tg := range ts {
		out = append(out, tg.Key())
	}
	return strings.Join(out, ",")
}

// journalCalls are the AWS actions the journal shows done, in order, with
// the action ID they were made for.
func journalCalls(t *testing.T, caseDir string) [][2]string {
	t.Helper()
	entries, err := playbook.ReadJournal(filepath.Join(caseDir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, e := range entries {
		if e.Kind == playbook.KindOutcome && e.Error == nil {
			out = append(out, [2]string{e.Action, e.ActionID})
		}
	}
	return out
}

// TestEradicateKeepsEvidence: before each instance of github-push is
// terminated its volume is snapshotted (tagged with the case) and its
// console output, user data and metadata saved; the function's code is
// downloaded and matches its CodeSha256; the backdoor user's policies are
// saved; every call is journaled before the removal; a re-run keeps and
// removes nothing twice.
func TestEradicateKeepsEvidence(t *testing.T) {
	t.Parallel()
	caseDir, srv := githubPushCase(t)
	key := srv.Sim.LeakedKey()
	targets := removalTargets(t, caseDir)
	code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", keys(targets))
	if code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}
	caseID := filepath.Base(caseDir)
	calls := journalCalls(t, caseDir)
	at := func(action, id string) int {
		for i, c := range calls {
			if c[0] == action && strings.HasSuffix(c[1], "/"+id) {
				return i
			}
		}
		return -1
	}
	var instances, functions, users int
	for _, tg := range targets {
		dir := filepath.Join(caseDir, playbook.EvidencePath(tg))
		var m playbook.Manifest
		b, err := os.ReadFile(filepath.Join(dir, playbook.ManifestFile))
		switch tg.Type {
		case resource.TypeInstance, resource.TypeFunction, resource.TypeUser:
			if err != nil {
				t.Errorf("%s: no evidence manifest: %v", tg, err)
				continue
			}
		default:
			if err == nil {
				t.Errorf("%s: evidence kept for a kind that has none", tg)
			}
			continue
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Missing) > 0 || m.Case != caseID {
			t.Errorf("%s: manifest %+v", tg, m)
		}
		have := map[string]playbook.EvidenceFile{}
		for _, f := range m.Files {
			have[f.Name] = f
			st, err := os.Stat(filepath.Join(dir, f.Name))
			if err != nil || st.Size() != f.Bytes || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s: %v, %v", tg, f.Name, err, st)
			}
		}
		switch tg.Type {
		case resource.TypeInstance:
			instances++
			for _, name := range []string{"instance.json", "snapshots.json", "console-output.txt", "user-data.bin"} {
				if _, ok := have[name]; !ok {
					t.Errorf("%s: no %s", tg, name)
				}
			}
			console, _ := os.ReadFile(filepath.Join(dir, "console-output.txt"))
			if !strings.Contains(string(console), "cloud-init") {
				t.Errorf("%s: console output %q", tg, console)
			}
			var snaps []map[string]string
			b, _ := os.ReadFile(filepath.Join(dir, "snapshots.json"))
			if err := json.Unmarshal(b, &snaps); err != nil || len(snaps) != 1 {
				t.Fatalf("%s: snapshots %s", tg, b)
			}
			// The snapshot is in the account, tagged with the case.
			out, err := ec2.NewFromConfig(srv.Config(srv.Sim.Responder(), tg.Region)).DescribeSnapshots(context.Background(),
				&ec2.DescribeSnapshotsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + resource.TagCase), Values: []string{caseID}},
					{Name: aws.String("tag:" + resource.TagResource), Values: []string{tg.ID}}}})
			if err != nil || len(out.Snapshots) != 1 || aws.ToString(out.Snapshots[0].SnapshotId) != snaps[0]["snapshotId"] {
				t.Errorf("%s: snapshot in the account: %+v, %v", tg, out, err)
			}
			snap, term := at("ec2:CreateSnapshot", tg.ID), at("ec2:TerminateInstances", tg.ID)
			if snap < 0 || term < 0 || snap > term {
				t.Errorf("%s: snapshot at %d, termination at %d in the journal", tg, snap, term)
			}
		case resource.TypeFunction:
			functions++
			var fn struct {
				Configuration struct{ CodeSha256 string }
			}
			b, _ := os.ReadFile(filepath.Join(dir, "function.json"))
			if err := json.Unmarshal(b, &fn); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "X-Amz-Signature") || strings.Contains(string(b), "lambda-code") {
				t.Errorf("function.json keeps the presigned URL: %s", b)
			}
			zip, err := os.ReadFile(filepath.Join(dir, "code.zip"))
			sum := sha256.Sum256(zip)
			if err != nil || len(zip) == 0 || base64.StdEncoding.EncodeToString(sum[:]) != fn.Configuration.CodeSha256 {
				t.Errorf("%s: code.zip (%d bytes, %v) does not match CodeSha256 %s", tg, len(zip), err, fn.Configuration.CodeSha256)
			}
			if get, del := at("lambda:GetFunction", tg.ID), at("lambda:DeleteFunction", tg.ID); get < 0 || del < 0 || get > del {
				t.Errorf("%s: GetFunction at %d, DeleteFunction at %d", tg, get, del)
			}
		case resource.TypeUser:
			users++
			b, _ := os.ReadFile(filepath.Join(dir, "policies.json"))
			if !strings.Contains(string(b), "arn:aws:iam::aws:policy/AdministratorAccess") {
				t.Errorf("%s: policies.json %s", tg, b)
			}
		}
	}
	if instances != 6 || functions != 1 || users != 1 {
		t.Errorf("evidence for %d instances, %d functions, %d users; want 6, 1, 1", instances, functions, users)
	}

	// No file of the case holds the responder's secret or a session token.
	resp := srv.Sim.Responder()
	err := filepath.WalkDir(caseDir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && (strings.Contains(string(data), resp.Secret) || strings.Contains(string(data), "FwoGZXIvYXdzE")) {
			t.Errorf("%s holds a secret key or a session token", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// A re-run keeps no evidence again and removes nothing twice.
	before := srv.Sim.Truth()
	if code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", keys(targets)); code != ExitOK && code != ExitUsage {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if w := writesBy(srv.Sim.Truth(), srv.Sim.Responder().AccessKeyID, before); len(w) > 0 {
		t.Errorf("second run made write calls: %v", w)
	}
}

// TestEradicateNoEvidence: --no-evidence removes without keeping anything.
func TestEradicateNoEvidence(t *testing.T) {
	t.Parallel()
	caseDir, srv := githubPushCase(t)
	key := srv.Sim.LeakedKey()
	targets := removalTargets(t, caseDir)
	if code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--no-evidence", "--only", keys(targets)); code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(caseDir, playbook.EvidenceDir)); !os.IsNotExist(err) {
		t.Errorf("evidence folder with --no-evidence: %v", err)
	}
	for _, c := range journalCalls(t, caseDir) {
		if c[0] == "ec2:CreateSnapshot" || c[0] == "ec2:GetConsoleOutput" {
			t.Errorf("--no-evidence made %s", c[0])
		}
	}
	var left int
	for _, r := range srv.Sim.Truth().Resources {
		if r.Attacker && r.State != "terminated" && r.State != "deleted" {
			left++
		}
	}
	if left > 0 {
		t.Errorf("%d attacker resources left", left)
	}
}

// TestEradicateEvidenceDenied: a piece AWS refuses is noted in the
// manifest and warned about, and the removal goes on.
func TestEradicateEvidenceDenied(t *testing.T) {
	t.Parallel()
	caseDir, srv := githubPushCase(t)
	key := srv.Sim.LeakedKey()
	var inst playbook.Target
	for _, tg := range removalTargets(t, caseDir) {
		if tg.Type == resource.TypeInstance {
			inst = tg
			break
		}
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:CreateSnapshot","Resource":"*"}]}`
	if _, err := iam.NewFromConfig(srv.Config(srv.Sim.Responder(), "us-east-1")).PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
		UserName: aws.String("responder"), PolicyName: aws.String("no-snapshots"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", inst.Key())
	if code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}
	var m playbook.Manifest
	b, err := os.ReadFile(filepath.Join(caseDir, playbook.EvidencePath(inst), playbook.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Missing) != 1 || !strings.HasPrefix(m.Missing[0].What, "snapshot of vol-") || !strings.Contains(m.Missing[0].Error, "may not call ec2:CreateSnapshot") {
		t.Errorf("manifest missing = %+v", m.Missing)
	}
	if !strings.Contains(errOut+out, "not kept") {
		t.Errorf("no warning of the missing snapshot:\n%s\n%s", out, errOut)
	}
	for _, r := range srv.Sim.Truth().Resources {
		if r.ID == inst.ID && r.State != "terminated" {
			t.Errorf("instance %s is %s", inst.ID, r.State)
		}
	}
}
