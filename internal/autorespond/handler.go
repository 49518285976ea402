// Package autorespond is keyleak's unattended responder as an AWS Lambda
// function: EventBridge hands it the AWS Health event (or a GuardDuty
// finding, or a GitHub secret-scanning alert relayed to it), and it runs the
// engine's Respond use case at once — contain first, investigate in what is
// left of the invocation, report — with the case directory kept in an S3
// bucket and a summary sent to an SNS topic and/or a chat webhook.
//
// Lambda retries a failed asynchronous invocation. The case lives in the
// bucket, its journal uploaded action by action: a retry pulls it, and the
// engine reads AWS before every step, so nothing is done twice.
package autorespond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trigger"
)

// SNS is what the summary calls.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler responds to one event per invocation.
type Handler struct {
	// Engine is the response engine, on the function's role.
	Engine *respond.Engine
	// S3 and Bucket keep the cases, each under Prefix + key ID + "/".
	S3     S3
	Bucket string
	Prefix string
	// SNS and Topic, when set, receive the summary; so does Webhook, a
	// chat incoming-webhook URL (Slack, Teams, Chime), as {"text": …}.
	SNS     SNS
	Topic   string
	Webhook string
	HTTP    *http.Client
	// WorkDir holds the case while the function works on it (/tmp).
	WorkDir string
	// Budget bounds the investigation; the invocation's deadline bounds it
	// further (default respond.DefaultBudget).
	Budget time.Duration
	// LookupRate paces LookupEvents (default 2, AWS's quota).
	LookupRate rate.Limit
	// Log receives progress lines (CloudWatch Logs); nil discards them.
	Log *log.Logger
}

// Output is what an invocation returns: per key, where its case is and
// what a person must still do.
type Output struct {
	Refused string       `json:"refused,omitempty"`
	Cases   []CaseOutput `json:"cases,omitempty"`
}

// CaseOutput is one key's response.
type CaseOutput struct {
	Key      string   `json:"key"`
	Case     string   `json:"case"` // s3://bucket/prefix/KEY/
	Complete bool     `json:"complete"`
	Left     []string `json:"leftForAPerson"`
	Problems []string `json:"problems,omitempty"`
}

// Handle is the Lambda handler. An event it cannot respond to (malformed,
// of another kind, another account's, a key the account does not have) is
// refused without error, so that Lambda does not retry it, and said in the
// summary. A failure that a retry can mend (AWS unreachable, the bucket)
// is returned as the error; a response that finished with work left for a
// person (a partial one) is not.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (Output, error) {
	t, err := trigger.Parse(event)
	if err != nil {
		return h.refuse(ctx, err.Error())
	}
	var out Output
	var errs []error
	var texts []string
	for _, key := range t.Keys {
		co, text, err := h.respond(ctx, t, key)
		var usage *respond.UsageError
		var partial *respond.PartialError
		switch {
		case errors.As(err, &usage):
			// Another account's event, a key the account does not have:
			// a retry would refuse it again.
			h.logf("refused %s: %v", key, err)
			out.Refused = err.Error()
			texts = append(texts, fmt.Sprintf("keyleak refused %s for %s: %v. Nothing was changed.", t.DetectedBy(), key, err))
			continue
		case errors.As(err, &partial):
		case err != nil:
			errs = append(errs, fmt.Errorf("respond for %s: %w", key, err))
		}
		if co != nil {
			out.Cases = append(out.Cases, *co)
		}
		if text != "" {
			texts = append(texts, text)
		}
	}
	subject := fmt.Sprintf("keyleak: %s %s", t.Type, strings.Join(t.Keys, ", "))
	if err := h.notify(ctx, subject, strings.Join(texts, "\n\n")); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// respond runs the engine for one key on its case, pulled from the bucket
// and pushed back as it changes.
func (h *Handler) respond(ctx context.Context, t *trigger.Trigger, key string) (*CaseOutput, string, error) {
	prefix := h.Prefix + key + "/"
	cs := &caseStore{s3: h.S3, bucket: h.Bucket, prefix: prefix, dir: filepath.Join(h.WorkDir, "keyleak-case-"+key)}
	n, err := cs.pull(ctx)
	if err != nil {
		return nil, "", err
	}
	if n > 0 {
		h.logf("resuming the case of %s from s3://%s/%s (%d files)", key, h.Bucket, prefix, n)
	}
	sync := startSyncer(ctx, cs)
	hooks := respond.Hooks{
		Note: func(s string) { h.logf("%s", s) },
		Progress: func(p playbook.Progress) {
			if p.ActionID != "" && p.Status != playbook.StatusRunning {
				h.logf("%s %s", p.Status, p.Description)
				sync.Kick()
			}
		},
	}
	req := respond.RespondRequest{Trigger: t, Key: key, Budget: h.Budget, LookupRate: h.LookupRate}
	if d, ok := ctx.Deadline(); ok {
		req.Deadline = d
	}
	res, rErr := h.Engine.Respond(ctx, casefile.Ref{Dir: cs.dir}, req, hooks)
	// The case goes up even when the response failed: whatever was done is
	// the evidence, and what a retry resumes from. A refused key left none.
	pushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	pErr := sync.Close(pushCtx)
	if res == nil {
		return nil, "", errors.Join(rErr, pErr)
	}
	co := &CaseOutput{Key: key, Case: fmt.Sprintf("s3://%s/%s", h.Bucket, prefix), Complete: res.Complete, Left: res.Left, Problems: res.Problems}
	res.Case = co.Case
	text := res.Text()
	if pErr != nil {
		text += fmt.Sprintf("Problem: the case could not be saved in full to %s: %v\n", co.Case, pErr)
		return co, text, errors.Join(rErr, pErr)
	}
	return co, text, rErr
}

// refuse says why an event cannot be responded to, in the logs and the
// summary, and returns without error: a retry would refuse it again.
func (h *Handler) refuse(ctx context.Context, reason string) (Output, error) {
	h.logf("refused: %s", reason)
	err := h.notify(ctx, "keyleak: event refused", "keyleak refused an event: "+reason+". Nothing was changed.")
	return Output{Refused: reason}, err
}

// notify sends the summary to the topic and the webhook that are set.
func (h *Handler) notify(ctx context.Context, subject, text string) error {
	if text == "" {
		return nil
	}
	var errs []error
	if h.SNS != nil && h.Topic != "" {
		if len(subject) > 99 {
			// SNS subjects are ASCII, under 100 characters.
			subject = subject[:96] + "..."
		}
		if _, err := h.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(h.Topic), Subject: aws.String(subject), Message: aws.String(text)}); err != nil {
			errs = append(errs, fmt.Errorf("publish the summary to %s: %w", h.Topic, err))
		}
	}
	if h.Webhook != "" {
		if err := h.post(ctx, text); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// post sends the summary to the chat webhook as {"text": …}, the body
// Slack's, Teams' and Chime's incoming webhooks read.
func (h *Handler) post(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return fmt.Errorf("post the summary: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post the summary: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.HTTP
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold the webhook's token: the error names only the
		// host.
		return fmt.Errorf("post the summary to the chat webhook at %s: %w", req.URL.Host, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post the summary to the chat webhook at %s: %s", req.URL.Host, resp.Status)
	}
	return nil
}

func (h *Handler) logf(format string, args ...any) {
	if h.Log != nil {
		h.Log.Printf(format, args...)
	}
}
