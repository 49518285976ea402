package awssim

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/support"
	"github.com/aws/aws-sdk-go-v2/service/support/types"
	"github.com/aws/smithy-go"
)

func (f *ecgFixture) support() *support.Client {
	return support.NewFromConfig(f.srv.Config(f.key, "us-east-1"))
}

// The AWS SDK's Support client replies to the case AWS opened, with an
// attachment, over the wire protocol; the case keeps the text and the file;
// CloudTrail records the calls without the text.
func TestSupportReplyWithAttachment(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	caseID := f.sim.SupportCaseID()
	if !strings.HasPrefix(caseID, "case-"+f.sim.AccountID()+"-") {
		t.Fatalf("case ID %q", caseID)
	}
	report := []byte("# Incident report\n\nkey deactivated\n")
	set, err := f.support().AddAttachmentsToSet(ctx, &support.AddAttachmentsToSetInput{
		Attachments: []types.Attachment{{FileName: aws.String("report.md"), Data: report}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(set.AttachmentSetId), "as-") || aws.ToString(set.ExpiryTime) == "" {
		t.Errorf("attachment set = %+v", set)
	}
	out, err := f.support().AddCommunicationToCase(ctx, &support.AddCommunicationToCaseInput{
		CaseId: aws.String(caseID), CommunicationBody: aws.String("The key was deactivated."), AttachmentSetId: set.AttachmentSetId,
	})
	if err != nil || !out.Result {
		t.Fatalf("AddCommunicationToCase = %+v, %v", out, err)
	}
	sc, _ := f.sim.SupportCase(caseID)
	if len(sc.Communications) != 1 || sc.Communications[0].Body != "The key was deactivated." ||
		len(sc.Communications[0].Attachments) != 1 || !bytes.Equal(sc.Communications[0].Attachments[0].Data, report) ||
		!strings.HasSuffix(sc.Communications[0].SubmittedBy, ":user/alice") {
		t.Errorf("case after the reply = %+v", sc)
	}
	// The set went with the communication.
	_, err = f.support().AddCommunicationToCase(ctx, &support.AddCommunicationToCaseInput{
		CaseId: aws.String(caseID), CommunicationBody: aws.String("again"), AttachmentSetId: set.AttachmentSetId,
	})
	var notFound *types.AttachmentSetIdNotFound
	if !errors.As(err, &notFound) {
		t.Errorf("reusing the set: %v, want AttachmentSetIdNotFound", err)
	}
	found := 0
	for _, e := range f.sim.Truth().Events {
		if e.EventSource == "support.amazonaws.com" && e.EventName == "AddCommunicationToCase" {
			found++
		}
	}
	if found != 2 {
		t.Errorf("%d AddCommunicationToCase events recorded, want 2", found)
	}
}

// The Support API answers only Business and Enterprise plans; other
// errors are the SDK's typed ones.
func TestSupportRefusals(t *testing.T) {
	ctx := context.Background()
	basic := newECGFixture(t, WithSupportPlan(SupportBasic))
	_, err := basic.support().AddCommunicationToCase(ctx, &support.AddCommunicationToCaseInput{
		CaseId: aws.String(basic.sim.SupportCaseID()), CommunicationBody: aws.String("hello"),
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SubscriptionRequiredException" {
		t.Errorf("basic plan: %v, want SubscriptionRequiredException", err)
	}

	f := newECGFixture(t)
	_, err = f.support().AddCommunicationToCase(ctx, &support.AddCommunicationToCaseInput{
		CaseId: aws.String("case-000000000000-2026-0000000000000000"), CommunicationBody: aws.String("hello"),
	})
	var nf *types.CaseIdNotFound
	if !errors.As(err, &nf) {
		t.Errorf("unknown case: %v, want CaseIdNotFound", err)
	}
	_, err = f.support().AddCommunicationToCase(ctx, &support.AddCommunicationToCaseInput{
		CaseId: aws.String(f.sim.SupportCaseID()), CommunicationBody: aws.String(strings.Repeat("x", 8001)),
	})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("over 8000 characters: %v, want ValidationException", err)
	}
	_, err = f.support().AddAttachmentsToSet(ctx, &support.AddAttachmentsToSetInput{
		Attachments: []types.Attachment{{FileName: aws.String("big.bin"), Data: make([]byte, 5<<20+1)}},
	})
	var big *types.AttachmentSetSizeLimitExceeded
	if !errors.As(err, &big) {
		t.Errorf("6 MB attachment: %v, want AttachmentSetSizeLimitExceeded", err)
	}
}
