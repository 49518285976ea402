package tui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// TestResumeFindsTheKeyActiveAgain: the runbook contains the key; someone
// turns it back on and deletes the revoke policy; reopening the case must
// show containment open again (AWS is the truth, not the journal), and
// containing again puts both back.
func TestResumeFindsTheKeyActiveAgain(t *testing.T) {
	srv := demoSim(t)
	parent := t.TempDir()
	tm := startRunbook(t, srv, parent, flowOptions{})
	contain(t, tm, srv)
	dir := finish(t, tm)

	leaked, _ := srv.Sim.Key(srv.Sim.LeakedKey())
	api := iam.NewFromConfig(srv.Config(srv.Sim.Responder(), "us-east-1"))
	ctx := context.Background()
	if _, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(leaked.UserName),
		AccessKeyId: aws.String(leaked.AccessKeyID), Status: iamtypes.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(leaked.UserName),
		PolicyName: aws.String(playbook.RevokePolicyName)}); err != nil {
		t.Fatal(err)
	}

	tm = startRunbook(t, srv, parent, flowOptions{caseDir: dir})
	waitFor(t, tm, "the key is Active again")
	send(tm, "enter")
	waitFor(t, tm, "Y (shift+y): make these calls")
	send(tm, "Y")
	waitFor(t, tm, "until this policy is in place")
	confirmUntil(t, tm, "enter: go on to the investigation")
	finish(t, tm)
	if k, _ := srv.Sim.Key(leaked.AccessKeyID); k.Status != "Inactive" {
		t.Errorf("after containing again the key is %s", k.Status)
	}
	if _, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(leaked.UserName),
		PolicyName: aws.String(playbook.RevokePolicyName)}); err != nil {
		t.Errorf("the revoke policy is not back: %v", err)
	}
	c, err := casefile.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum, err := casefile.LoadContain(c)
	if err != nil || sum == nil || sum.FoundActiveAgain.IsZero() || sum.KeyStatus != "Inactive" {
		t.Errorf("contain.json after the second run: %+v, %v", sum, err)
	}
}

// TestRunbookAndCommandWriteTheSameReport: the runbook's whole flow, with
// eradication and verification, then the report written again by the
// engine as `keyleak report` does: the two report.json are the same but for
// when they were generated and AWS read for them.
func TestRunbookAndCommandWriteTheSameReport(t *testing.T) {
	srv := demoSim(t)
	parent := t.TempDir()
	tm := startRunbook(t, srv, parent, flowOptions{})
	contain(t, tm, srv)
	send(tm, "enter")
	waitFor(t, tm, "sweep complete")
	send(tm, "enter")
	waitFor(t, tm, "shown · enter: details")
	send(tm, "tab")
	waitFor(t, tm, "still present")
	send(tm, "D")
	// One confirmation per resource; a Y with nothing asked does nothing.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && attackerResourcesLeft(srv) > 0 {
		send(tm, "Y")
		time.Sleep(50 * time.Millisecond)
	}
	if n := attackerResourcesLeft(srv); n > 0 {
		t.Fatalf("%d attacker resources left after eradication in the runbook", n)
	}
	waitFor(t, tm, " 0 selected")
	send(tm, "tab", "enter")
	waitFor(t, tm, "enter: go on to the report")
	send(tm, "tab", "enter")
	waitFor(t, tm, "report.xlsx (")
	dir := finish(t, tm)

	fromRunbook := reportWithoutTimes(t, filepath.Join(dir, "report.json"))
	c, err := casefile.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eng := respond.New(func(context.Context) (*awsapi.Clients, error) {
		return awsapi.NewClients(srv.Config(srv.Sim.Responder(), "us-east-1")), nil
	})
	if _, err := eng.Report(context.Background(), c, respond.ReportRequest{Formats: []string{"json"}}, respond.Hooks{}); err != nil {
		t.Fatal(err)
	}
	fromCommand := reportWithoutTimes(t, filepath.Join(dir, "report.json"))
	if !bytes.Equal(fromRunbook, fromCommand) {
		t.Errorf("the runbook's report.json differs from the command's:\n%s\n----\n%s", fromRunbook, fromCommand)
	}
	var rep struct {
		Resources []struct {
			State string `json:"state"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(fromCommand, &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Resources {
		if r.State == "present" {
			t.Errorf("the report says a resource is still present after eradication: %+v", rep.Resources)
			break
		}
	}
}

// attackerResourcesLeft counts what the simulated attacker created that
// still exists, by the simulator's ground truth.
func attackerResourcesLeft(srv *awssim.Server) int {
	n := 0
	for _, r := range srv.Sim.Truth().Resources {
		switch r.State {
		case "terminated", "shutting-down", "deleted", "gone":
			continue
		}
		if r.Attacker {
			n++
		}
	}
	return n
}

// reportWithoutTimes reads report.json with what belongs to its own
// generation removed: the generation times, and the journal's record of
// earlier reports being written (the second report lists the first).
func reportWithoutTimes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if actions, ok := v["actions"].([]any); ok {
		kept := actions[:0]
		for _, a := range actions {
			if m, ok := a.(map[string]any); ok && m["step"] == "report" {
				continue
			}
			kept = append(kept, a)
		}
		v["actions"] = kept
	}
	// When each was generated, and when AWS was read for it, differ.
	dropKeys(v, map[string]bool{"generatedAt": true, "resourcesReadAt": true, "stateAt": true})
	// The bill is priced when the report is written, like generatedAt.
	if b, ok := v["bill"].(map[string]any); ok {
		delete(b, "at")
	}
	out, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dropKeys(v any, keys map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if keys[k] {
				delete(x, k)
				continue
			}
			dropKeys(val, keys)
		}
	case []any:
		for _, val := range x {
			dropKeys(val, keys)
		}
	}
}
