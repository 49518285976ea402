package respond

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/support"
	supporttypes "github.com/aws/aws-sdk-go-v2/service/support/types"
	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
)

// SupportAPI is the part of the AWS Support API the reply to the support
// case uses. Its endpoint is in us-east-1; it answers only accounts with a
// Business or Enterprise support plan.
type SupportAPI interface {
	AddAttachmentsToSet(ctx context.Context, in *support.AddAttachmentsToSetInput, optFns ...func(*support.Options)) (*support.AddAttachmentsToSetOutput, error)
	AddCommunicationToCase(ctx context.Context, in *support.AddCommunicationToCaseInput, optFns ...func(*support.Options)) (*support.AddCommunicationToCaseOutput, error)
}

// StepSupport is the journal's step of the reply to the support case.
const StepSupport = "support"

// SupportReplyRequest says which case to reply to, and in which language
// and zone.
type SupportReplyRequest struct {
	// CaseID is the support case's ID, case-ACCOUNT-YEAR-HEX, as
	// `aws support describe-cases` shows it (not the display number).
	CaseID string
	Lang   string
	TZ     *time.Location
	// NoAttachment sends the answers without the Markdown report.
	NoAttachment bool
	// Unattended says the confirm hook answers yes without a person (the
	// CLI's --yes): a reply an earlier run was interrupted posting is then
	// not posted, since AWS may have it already.
	Unattended bool
}

// SupportReplyResult is what was (or would have been) posted.
type SupportReplyResult struct {
	CaseID          string    `json:"caseId"`
	Body            string    `json:"body"`
	Attachment      string    `json:"attachment,omitempty"`
	AttachmentSetID string    `json:"attachmentSetId,omitempty"`
	Sent            bool      `json:"sent"`
	SentAt          time.Time `json:"sentAt,omitzero"`
	// AlreadySent is when the journal shows this same reply posted
	// before; it is not posted twice.
	AlreadySent time.Time `json:"alreadySent,omitzero"`
}

// maxAttachment is the largest attachment the Support API takes (5 MB).
const maxAttachment = 5 << 20

// ReplyToSupportCase posts the report's answers to the AWS support case
// (AddCommunicationToCase), with the Markdown report attached
// (AddAttachmentsToSet), after showing both through the confirm hook:
// nothing is posted unless the responder says yes. Each call is journaled
// before and after; a reply the journal shows posted is not posted again.
// An account without a Business or Enterprise support plan is refused by
// AWS; the error says so and what to do instead.
func (e *Engine) ReplyToSupportCase(ctx context.Context, c *playbook.Case, req SupportReplyRequest, h Hooks) (*SupportReplyResult, error) {
	if !strings.HasPrefix(req.CaseID, "case-") {
		return nil, Usagef("--support-case %q: give the case ID, case-ACCOUNT-YEAR-HEX, as 'aws support describe-cases' or the Support Center's case URL shows it, not the case's display number", req.CaseID)
	}
	m, err := caseview.Load(c, caseview.Options{Now: e.now(), Version: e.version})
	if err != nil {
		return nil, err
	}
	mo := report.MarkdownOptions{Lang: req.Lang, TZ: req.TZ}
	res := &SupportReplyResult{CaseID: req.CaseID}
	var attachment []byte
	if !req.NoAttachment {
		res.Attachment = ReportFile("md", req.Lang)
		// The report written into the case is the one attached, so that
		// the case and AWS hold the same file; without one, it is written
		// now from the same model.
		if b, err := os.ReadFile(c.Path(res.Attachment)); err == nil {
			attachment = b
		} else {
			var buf bytes.Buffer
			if err := report.WriteMarkdown(&buf, m, mo); err != nil {
				return nil, err
			}
			attachment = buf.Bytes()
		}
		if len(attachment) > maxAttachment {
			return nil, fmt.Errorf("attach the report: it is %d bytes, over the Support API's 5 MB; send it from the Support Center instead", len(attachment))
		}
	}
	if res.Body, err = report.SupportReply(m, mo, res.Attachment); err != nil {
		return nil, err
	}
	sum := digest(res.Body)
	prior := priorReplies(c, req.CaseID)
	if at, ok := prior.posted[sum]; ok {
		res.AlreadySent = at
		h.note("this reply was already posted to %s at %s; it is not posted again", req.CaseID, at.Format(time.RFC3339))
		return res, nil
	}
	if !prior.interrupted.IsZero() && req.Unattended {
		return res, &UsageError{Err: fmt.Errorf("a reply to %s was being posted at %s when keyleak stopped: AWS may have it already; look at the case in the Support Center, then run again without --yes to decide", req.CaseID, prior.interrupted.Format(time.RFC3339))}
	}

	attachID := StepSupport + "/AddAttachmentsToSet/" + req.CaseID
	replyID := StepSupport + "/AddCommunicationToCase/" + req.CaseID
	var actions []playbook.Action
	if attachment != nil {
		actions = append(actions, playbook.Action{ID: attachID, Service: "support", Name: "AddAttachmentsToSet",
			Description: fmt.Sprintf("aws support add-attachments-to-set --region us-east-1 --attachments fileName=%s (%d bytes)", res.Attachment, len(attachment))})
	}
	actions = append(actions, playbook.Action{ID: replyID, Service: "support", Name: "AddCommunicationToCase",
		Description: fmt.Sprintf("aws support add-communication-to-case --region us-east-1 --case-id %s --communication-body (below)\n\n%s", req.CaseID, res.Body)})
	step := playbook.Step{ID: StepSupport, Title: "Reply to AWS support case " + req.CaseID,
		Why: "The case stays open until the account's owner replies; this posts the answers the case asks for, and the report, as the case's correspondence. A post cannot be taken back."}
	switch {
	case !prior.interrupted.IsZero():
		step.Why += fmt.Sprintf(" A reply was being posted at %s when keyleak stopped: AWS may have it already; look at the case's correspondence before saying yes.", prior.interrupted.Format(time.RFC3339))
	case !prior.last.IsZero():
		step.Title += fmt.Sprintf(" again (the last reply was posted at %s)", prior.last.Format(time.RFC3339))
	}
	ok := false
	if h.Confirm != nil {
		if ok, err = h.Confirm(ctx, step, actions); err != nil {
			return res, err
		}
	}
	decision := "declined by the responder: the reply was not posted"
	if ok {
		decision = "approved by the responder"
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindDecision, Step: StepSupport, Message: decision}); err != nil {
		return res, fmt.Errorf("journal the decision: %w", err)
	}
	if !ok {
		return res, nil
	}
	clients, err := e.Clients(ctx)
	if err != nil {
		return res, err
	}
	var api SupportAPI = clients.Support()
	if attachment != nil {
		params := map[string]string{"CaseId": req.CaseID, "FileName": res.Attachment, "Bytes": strconv.Itoa(len(attachment)), "SHA256": digest(string(attachment))}
		out, err := journaled(c, attachID, "support:AddAttachmentsToSet", params, nil, func() (any, error) {
			return api.AddAttachmentsToSet(ctx, &support.AddAttachmentsToSetInput{
				Attachments: []supporttypes.Attachment{{FileName: aws.String(res.Attachment), Data: attachment}},
			})
		})
		if err != nil {
			return res, supportError(err, req.CaseID, res.Attachment)
		}
		res.AttachmentSetID = aws.ToString(out.(*support.AddAttachmentsToSetOutput).AttachmentSetId)
	}
	params := map[string]string{"CaseId": req.CaseID, "AttachmentSetId": res.AttachmentSetID, "Bytes": strconv.Itoa(len(res.Body)), "SHA256": sum}
	in := &support.AddCommunicationToCaseInput{CaseId: aws.String(req.CaseID), CommunicationBody: aws.String(res.Body)}
	if res.AttachmentSetID != "" {
		in.AttachmentSetId = aws.String(res.AttachmentSetID)
	}
	if _, err := journaled(c, replyID, "support:AddCommunicationToCase", params, map[string]any{"caseId": req.CaseID, "communicationBody": res.Body},
		func() (any, error) { return api.AddCommunicationToCase(ctx, in) }); err != nil {
		return res, supportError(err, req.CaseID, res.Attachment)
	}
	res.Sent, res.SentAt = true, e.now().UTC()
	return res, nil
}

// journaled makes one call with an intent entry before it and an outcome
// entry after it.
func journaled(c *playbook.Case, id, action string, params map[string]string, request any, call func() (any, error)) (any, error) {
	j := c.Journal()
	if _, err := j.Append(playbook.Entry{Kind: playbook.KindIntent, Step: StepSupport, ActionID: id, Action: action, Params: params, Request: request}); err != nil {
		return nil, fmt.Errorf("journal %s: %w", action, err)
	}
	out, callErr := call()
	e := playbook.Entry{Kind: playbook.KindOutcome, Step: StepSupport, ActionID: id, Action: action}
	if callErr != nil {
		info := &playbook.ErrorInfo{Message: callErr.Error()}
		var ae smithy.APIError
		if errors.As(callErr, &ae) {
			info.Code, info.Definite = ae.ErrorCode(), ae.ErrorFault() == smithy.FaultClient
		}
		e.Error = info
	} else {
		e.Response = out
	}
	if _, err := j.Append(e); err != nil && callErr == nil {
		return out, fmt.Errorf("journal %s: %w", action, err)
	}
	return out, callErr
}

// supportError says what AWS's refusal means for the responder.
func supportError(err error, caseID, attachment string) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("reply to support case %s: %w", caseID, err)
	}
	instead := "reply in the Support Center (console.aws.amazon.com/support) to case " + caseID
	if attachment != "" {
		instead += " and attach " + attachment + " from the case directory"
	}
	switch ae.ErrorCode() {
	case "SubscriptionRequiredException":
		return &AuthError{Err: fmt.Errorf("AWS refused the reply: the Support API needs a Business or Enterprise support plan, which this account does not have; %s: %w", instead, err)}
	case "CaseIdNotFound":
		return &UsageError{Err: fmt.Errorf("AWS knows no support case %s in this account; check the case ID with 'aws support describe-cases --region us-east-1': %w", caseID, err)}
	case "AccessDeniedException", "AccessDenied":
		return &AuthError{Err: fmt.Errorf("your credentials may not post to support cases (support:AddAttachmentsToSet, support:AddCommunicationToCase); %s: %w", instead, err)}
	}
	return fmt.Errorf("reply to support case %s: %s; %w", caseID, instead, err)
}

// replies is what the journal shows of earlier replies to a case.
type replies struct {
	// posted maps the digest of each reply posted to when it was.
	posted map[string]time.Time
	// last is when the last reply was posted; interrupted when a reply
	// was being posted and no outcome followed.
	last, interrupted time.Time
}

// priorReplies reads the journal for the replies to a case.
func priorReplies(c *playbook.Case, caseID string) replies {
	out := replies{posted: map[string]time.Time{}}
	entries, err := playbook.ReadJournal(c.Path(playbook.JournalFile))
	if err != nil {
		return out
	}
	id := StepSupport + "/AddCommunicationToCase/" + caseID
	var pending string
	var pendingAt time.Time
	for _, e := range entries {
		if e.ActionID != id {
			continue
		}
		switch e.Kind {
		case playbook.KindIntent:
			pending, pendingAt = e.Params["SHA256"], e.Time
		case playbook.KindOutcome:
			if e.Error == nil {
				out.posted[pending] = e.Time
				out.last = e.Time
			}
			pending = ""
		}
	}
	if pending != "" {
		out.interrupted = pendingAt
	}
	return out
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
