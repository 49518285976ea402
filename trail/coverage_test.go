package trail_test

import (
	"testing"

	"github.com/keyleak/keyleak/trail"
)

// TestCoverageSummaryNamesAlikeFailuresTogether: sources that failed the
// same way are one part of the summary, naming each; others keep their own.
func TestCoverageSummaryNamesAlikeFailuresTogether(t *testing.T) {
	noRole := "needs role OrganizationAccountAccessRole: AccessDenied"
	cov := trail.Coverage{Sources: []trail.SourceStatus{
		{Name: "300000000001", State: trail.StateDenied, Err: noRole},
		{Name: "300000000002/us-east-1", State: trail.StateOK},
		{Name: "300000000003", State: trail.StateDenied, Err: noRole},
		{Name: "300000000004/eu-west-1", State: trail.StateError, Err: "throttled 8 times"},
		{Name: "300000000005", State: trail.StateDenied, Err: noRole},
		{Name: "files", State: trail.StateError, BadFiles: []trail.FileError{{Path: "a.json", Reason: "truncated"}}},
	}}
	want := "incomplete: files: 1 unreadable file(s); denied (" + noRole + "): 3 sources: 300000000001, 300000000003, 300000000005; " +
		"300000000004/eu-west-1: error (throttled 8 times)"
	if got := cov.Summary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}
