package respond

import (
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
)

// An offline rebuild extracts the resources again from the events, which
// carry no state: the states last read from AWS must survive it, or an
// offline report shows removed resources as not checked.
func TestKeepStates(t *testing.T) {
	before := []assess.Resource{
		{Type: "AWS::IAM::User", ID: "backup-admin", Region: "us-east-1", State: assess.StateGone, StateReason: "NoSuchEntity"},
		{Type: "AWS::EC2::Instance", ID: "i-1", Region: "eu-west-1", State: assess.StatePresent, StateReason: "running"},
	}
	now := []assess.Resource{
		{Type: "AWS::IAM::User", ID: "backup-admin", Region: "us-east-1"},
		{Type: "AWS::EC2::Instance", ID: "i-1", Region: "eu-west-1"},
		{Type: "AWS::EC2::Instance", ID: "i-2", Region: "eu-west-1"},
	}
	keepStates(now, before)
	if now[0].State != assess.StateGone || now[1].State != assess.StatePresent || now[1].StateReason != "running" || now[2].State != "" {
		t.Errorf("states after rebuild = %+v", now)
	}
}

// Offline, the quarantine an online run found still dates the leak: the
// rebuilt record is one the catalog's quarantine signal recognises.
func TestPriorQuarantine(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 13, 0, 0, time.UTC)
	evs := priorQuarantine(assess.Leak{DetectedAt: at, QuarantinePolicy: "AWSCompromisedKeyQuarantineV2", QuarantinedUser: "ci"})
	if len(evs) != 1 {
		t.Fatalf("events = %v", evs)
	}
	cat, err := assess.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range cat.Match(&evs[0]) {
		found = found || r.Signal == "quarantine"
	}
	if !found || !evs[0].EventTime.Equal(at) || evs[0].RequestString("userName") != "ci" {
		t.Errorf("rebuilt quarantine %+v is not recognised", evs[0])
	}
	if priorQuarantine(assess.Leak{}) != nil {
		t.Error("a quarantine made up from nothing")
	}
}
