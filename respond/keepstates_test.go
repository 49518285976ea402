package respond

import (
	"testing"

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
