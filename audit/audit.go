// Package audit reads an account's access-key hygiene from the IAM
// credential report: old keys, unused keys, users with two active keys, root
// access keys, console users with keys and no MFA, and keys whose user is
// an administrator. The same checks feed `keyleak audit` and the
// recommendations of the incident report.
package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/keyleak/keyleak/internal/awserr"
	"github.com/keyleak/keyleak/playbook"
)

// ReportAPI generates and fetches the credential report.
type ReportAPI interface {
	GenerateCredentialReport(ctx context.Context, params *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, params *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// KeyLister maps report slots to access key IDs.
type KeyLister interface {
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
}

// IAM is every call of the audit; *iam.Client satisfies it.
type IAM interface {
	ReportAPI
	KeyLister
	playbook.PolicyReader
}

var _ IAM = (*iam.Client)(nil)

// Checks, in the order the report lists them.
const (
	CheckRootKey        = "root-access-key"
	CheckAdminKey       = "administrator-key"
	CheckConsoleNoMFA   = "console-user-without-mfa"
	CheckTwoActiveKeys  = "two-active-keys"
	CheckOldKey         = "old-key"
	CheckUnusedKey      = "unused-key"
	CheckPoliciesUnread = "policies-unread"
)

// Severities.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

// Finding is one hygiene problem.
type Finding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	User     string `json:"user"` // "<root_account>" for the root user
	ARN      string `json:"arn,omitempty"`
	// Slot is the report's key column (1 or 2), 0 for user-level findings.
	Slot        int       `json:"slot,omitempty"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	LastUsed    time.Time `json:"lastUsed,omitzero"`
	Detail      string    `json:"detail"`
}

// Key is one access key of the report.
type Key struct {
	Slot        int       `json:"slot"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	Active      bool      `json:"active"`
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"lastUsed,omitzero"`
	Service     string    `json:"lastUsedService,omitempty"`
	Region      string    `json:"lastUsedRegion,omitempty"`
}

// User is one row of the report.
type User struct {
	Name     string `json:"user"`
	ARN      string `json:"arn"`
	Root     bool   `json:"root,omitempty"`
	Password bool   `json:"passwordEnabled"`
	MFA      bool   `json:"mfaActive"`
	Keys     []Key  `json:"keys"`
	// Access is the user's access level when it was read (users with an
	// active key only).
	Access string `json:"access,omitempty"`
}

// Report is the audit of one account.
type Report struct {
	Account   string    `json:"account,omitempty"`
	Generated time.Time `json:"generated"` // the credential report's GeneratedTime
	MaxAge    Duration  `json:"maxKeyAge"`
	MaxUnused Duration  `json:"maxUnused"`
	Users     []User    `json:"users"`
	Findings  []Finding `json:"findings"`
}

// Duration is a time.Duration written as "90d" or Go's form in JSON.
type Duration time.Duration

// MarshalText writes whole days as "90d".
func (d Duration) MarshalText() ([]byte, error) {
	if td := time.Duration(d); td%(24*time.Hour) == 0 {
		return fmt.Appendf(nil, "%dd", td/(24*time.Hour)), nil
	}
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil {
			return fmt.Errorf("read duration %q: %w", s, err)
		}
		*d = Duration(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("read duration %q: %w", s, err)
	}
	*d = Duration(td)
	return nil
}

// Option configures Run.
type Option func(*auditor)

// WithMaxAge sets the age after which an active key is old (default 90 days).
func WithMaxAge(d time.Duration) Option { return func(a *auditor) { a.maxAge = d } }

// WithMaxUnused sets how long an active key may go unused (default 90 days).
func WithMaxUnused(d time.Duration) Option { return func(a *auditor) { a.maxUnused = d } }

// WithSleep sets how the audit waits between polls of the report generation
// (default: a timer honouring ctx); tests pass a fake.
func WithSleep(fn func(context.Context, time.Duration) error) Option {
	return func(a *auditor) { a.sleep = fn }
}

// WithoutPolicies skips the policy reads (no administrator check).
func WithoutPolicies() Option { return func(a *auditor) { a.noPolicies = true } }

type auditor struct {
	c          IAM
	maxAge     time.Duration
	maxUnused  time.Duration
	sleep      func(context.Context, time.Duration) error
	noPolicies bool
}

// reportPolls bounds the wait for a report: AWS builds one in seconds.
const reportPolls = 30

// Run generates the credential report (waiting until it is COMPLETE),
// reads it and runs every check. Ages are measured at the report's
// GeneratedTime, the moment the report describes. Access denied on the
// report is returned as the AWS error; a user whose policies cannot be read
// gets a policies-unread finding instead of failing the audit.
func Run(ctx context.Context, c IAM, opts ...Option) (*Report, error) {
	a := &auditor{c: c, maxAge: 90 * 24 * time.Hour, maxUnused: 90 * 24 * time.Hour, sleep: sleepCtx}
	for _, o := range opts {
		o(a)
	}
	content, generated, err := a.fetch(ctx)
	if err != nil {
		return nil, err
	}
	users, err := ParseCredentialReport(content)
	if err != nil {
		return nil, err
	}
	r := &Report{Generated: generated, MaxAge: Duration(a.maxAge), MaxUnused: Duration(a.maxUnused), Users: users}
	for _, u := range users {
		if u.Root {
			r.Account = accountOf(u.ARN)
		}
	}
	if err := a.resolveKeyIDs(ctx, r); err != nil {
		return nil, err
	}
	if !a.noPolicies {
		a.readAccess(ctx, r)
	}
	r.Findings = Check(r, a.maxAge, a.maxUnused)
	return r, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fetch asks for a report until it is COMPLETE and returns its CSV.
func (a *auditor) fetch(ctx context.Context) ([]byte, time.Time, error) {
	for i := 0; ; i++ {
		gen, err := a.c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("generate credential report: %w", err)
		}
		if gen.State == types.ReportStateTypeComplete {
			break
		}
		if i == reportPolls {
			return nil, time.Time{}, fmt.Errorf("generate credential report: still %s after %d polls; run the audit again in a minute", gen.State, reportPolls)
		}
		if err := a.sleep(ctx, time.Second); err != nil {
			return nil, time.Time{}, err
		}
	}
	for i := 0; ; i++ {
		out, err := a.c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if awserr.Is(err, "ReportInProgress") && i < reportPolls {
			if err := a.sleep(ctx, time.Second); err != nil {
				return nil, time.Time{}, err
			}
			continue
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("get credential report: %w", err)
		}
		if f := out.ReportFormat; f != "" && f != types.ReportFormatTypeTextCsv {
			return nil, time.Time{}, fmt.Errorf("get credential report: format %q, want text/csv", f)
		}
		return out.Content, aws.ToTime(out.GeneratedTime), nil
	}
}

// RootUser is the user name the credential report gives the root user.
const RootUser = "<root_account>"

// ParseCredentialReport reads the CSV of a credential report. Columns are
// found by name, so a report with more columns (AWS adds them) still reads.
func ParseCredentialReport(content []byte) ([]User, error) {
	rd := csv.NewReader(bytes.NewReader(content))
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	if len(recs) == 0 {
		return nil, errors.New("read credential report: it is empty")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"user", "arn", "password_enabled", "mfa_active", "access_key_1_active", "access_key_1_last_rotated"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("read credential report: no %s column", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var users []User
	for _, rec := range recs[1:] {
		u := User{Name: get(rec, "user"), ARN: get(rec, "arn"), Password: get(rec, "password_enabled") == "true",
			MFA: get(rec, "mfa_active") == "true", Keys: []Key{}}
		u.Root = u.Name == RootUser
		for slot := 1; slot <= 2; slot++ {
			p := fmt.Sprintf("access_key_%d_", slot)
			created, ok := reportTime(get(rec, p+"last_rotated"))
			if !ok {
				continue // no key in this slot
			}
			k := Key{Slot: slot, Active: get(rec, p+"active") == "true", Created: created}
			k.LastUsed, _ = reportTime(get(rec, p+"last_used_date"))
			if v := get(rec, p+"last_used_service"); v != "N/A" {
				k.Service = v
			}
			if v := get(rec, p+"last_used_region"); v != "N/A" {
				k.Region = v
			}
			u.Keys = append(u.Keys, k)
		}
		users = append(users, u)
	}
	return users, nil
}

// reportTime parses a report time; "N/A", "no_information" and
// "not_supported" are no time.
func reportTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05-07:00", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func accountOf(arn string) string {
	f := strings.Split(arn, ":")
	if len(f) >= 5 {
		return f[4]
	}
	return ""
}

// resolveKeyIDs fills the access key IDs of IAM users' keys: the report
// has slots, not IDs, and the responder needs IDs. Keys are matched by
// creation time. Root keys are listed only to the root user, so they stay
// without ID unless the caller is root.
func (a *auditor) resolveKeyIDs(ctx context.Context, r *Report) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range r.Users {
		u := &r.Users[i]
		if u.Root || len(u.Keys) == 0 {
			continue
		}
		g.Go(func() error {
			out, err := a.c.ListAccessKeys(gctx, &iam.ListAccessKeysInput{UserName: aws.String(u.Name)})
			if err != nil {
				if awserr.IsNotFound(err) {
					return nil // deleted since the report
				}
				return fmt.Errorf("list access keys of %s: %w", u.Name, err)
			}
			for j := range u.Keys {
				for _, m := range out.AccessKeyMetadata {
					if aws.ToTime(m.CreateDate).UTC().Truncate(time.Second).Equal(u.Keys[j].Created.Truncate(time.Second)) {
						u.Keys[j].AccessKeyID = aws.ToString(m.AccessKeyId)
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// readAccess classifies what each user with an active key may do, with the
// playbook's classification; a user whose policies cannot be read is
// marked so and the audit goes on.
func (a *auditor) readAccess(ctx context.Context, r *Report) {
	pr := &policyReader{c: a.c, managed: map[string]string{}}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range r.Users {
		u := &r.Users[i]
		if u.Root || !hasActiveKey(*u) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			refs, err := pr.userPolicies(ctx, u.Name)
			if err != nil {
				u.Access = "unknown: " + err.Error()
				return
			}
			u.Access = playbook.ClassifyAccess(refs).Level
		}()
	}
	wg.Wait()
}

func hasActiveKey(u User) bool {
	for _, k := range u.Keys {
		if k.Active {
			return true
		}
	}
	return false
}

// policyReader reads a user's inline, attached and group policies,
// reading each managed policy once.
type policyReader struct {
	c       playbook.PolicyReader
	mu      sync.Mutex
	managed map[string]string // ARN -> document
}

func (p *policyReader) userPolicies(ctx context.Context, user string) ([]playbook.PolicyRef, error) {
	var refs []playbook.PolicyRef
	names, err := p.c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list user policies: %w", err)
	}
	for _, n := range names.PolicyNames {
		out, err := p.c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(n)})
		if err != nil {
			return nil, fmt.Errorf("read user policy %s: %w", n, err)
		}
		refs = append(refs, playbook.PolicyRef{Name: n, Source: "inline", Doc: decodeDoc(aws.ToString(out.PolicyDocument))})
	}
	att, err := p.c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list attached user policies: %w", err)
	}
	for _, ap := range att.AttachedPolicies {
		doc, err := p.managedDoc(ctx, aws.ToString(ap.PolicyArn))
		if err != nil {
			return nil, err
		}
		refs = append(refs, playbook.PolicyRef{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn), Source: "attached", Doc: doc})
	}
	groups, err := p.c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list groups for user: %w", err)
	}
	for _, g := range groups.Groups {
		gname := aws.ToString(g.GroupName)
		gn, err := p.c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: g.GroupName})
		if err != nil {
			return nil, fmt.Errorf("list group policies: %w", err)
		}
		for _, n := range gn.PolicyNames {
			out, err := p.c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: g.GroupName, PolicyName: aws.String(n)})
			if err != nil {
				return nil, fmt.Errorf("read group policy %s: %w", n, err)
			}
			refs = append(refs, playbook.PolicyRef{Name: n, Source: "group " + gname + " (inline)", Doc: decodeDoc(aws.ToString(out.PolicyDocument))})
		}
		ga, err := p.c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: g.GroupName})
		if err != nil {
			return nil, fmt.Errorf("list attached group policies: %w", err)
		}
		for _, ap := range ga.AttachedPolicies {
			doc, err := p.managedDoc(ctx, aws.ToString(ap.PolicyArn))
			if err != nil {
				return nil, err
			}
			refs = append(refs, playbook.PolicyRef{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn), Source: "group " + gname, Doc: doc})
		}
	}
	return refs, nil
}

func (p *policyReader) managedDoc(ctx context.Context, arn string) (string, error) {
	p.mu.Lock()
	doc, ok := p.managed[arn]
	p.mu.Unlock()
	if ok {
		return doc, nil
	}
	pol, err := p.c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read policy %s: %w", arn, err)
	}
	ver, err := p.c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return "", fmt.Errorf("read policy %s: %w", arn, err)
	}
	doc = decodeDoc(aws.ToString(ver.PolicyVersion.Document))
	p.mu.Lock()
	p.managed[arn] = doc
	p.mu.Unlock()
	return doc, nil
}

// decodeDoc undoes IAM's URL encoding of policy documents.
func decodeDoc(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if dec, err := url.QueryUnescape(doc); err == nil {
		return dec
	}
	return doc
}

// Check runs the hygiene checks on a report's users. It is pure: ages are
// measured at r.Generated.
func Check(r *Report, maxAge, maxUnused time.Duration) []Finding {
	now := r.Generated
	days := func(d time.Duration) int { return int(d / (24 * time.Hour)) }
	var out []Finding
	for _, u := range r.Users {
		active := 0
		for _, k := range u.Keys {
			if k.Active {
				active++
			}
		}
		if u.Root {
			for _, k := range u.Keys {
				sev, state := SeverityHigh, "active"
				if !k.Active {
					sev, state = SeverityMedium, "inactive"
				}
				out = append(out, Finding{Check: CheckRootKey, Severity: sev, User: u.Name, ARN: u.ARN, Slot: k.Slot, AccessKeyID: k.AccessKeyID,
					Created: k.Created, LastUsed: k.LastUsed,
					Detail: fmt.Sprintf("the root user has an %s access key (%d days old): it can do anything and no policy can restrict it; delete it and use IAM roles", state, days(now.Sub(k.Created)))})
			}
		}
		if active > 0 && strings.HasPrefix(u.Access, "unknown: ") {
			out = append(out, Finding{Check: CheckPoliciesUnread, Severity: SeverityLow, User: u.Name, ARN: u.ARN,
				Detail: "could not read the user's policies (" + strings.TrimPrefix(u.Access, "unknown: ") + "), so the administrator check was not made"})
		}
		if active > 0 && u.Access == playbook.AccessAdministrator {
			for _, k := range u.Keys {
				if k.Active {
					out = append(out, Finding{Check: CheckAdminKey, Severity: SeverityHigh, User: u.Name, ARN: u.ARN, Slot: k.Slot, AccessKeyID: k.AccessKeyID,
						Created: k.Created, LastUsed: k.LastUsed,
						Detail: "a long-term key of an administrator: if it leaks, the whole account is the attacker's; use a role with short sessions (or aws-vault with MFA) instead"})
				}
			}
		}
		if active > 0 && u.Password && !u.MFA && !u.Root {
			out = append(out, Finding{Check: CheckConsoleNoMFA, Severity: SeverityHigh, User: u.Name, ARN: u.ARN,
				Detail: "signs in to the console with a password and no MFA, and has access keys: one phished password is enough to make new keys; enable MFA"})
		}
		if active == 2 {
			out = append(out, Finding{Check: CheckTwoActiveKeys, Severity: SeverityMedium, User: u.Name, ARN: u.ARN,
				Detail: "two active keys: the second slot exists for rotation, and a forgotten second key is a leak nobody watches; deactivate the one no workload uses"})
		}
		for _, k := range u.Keys {
			if !k.Active || u.Root { // a root key is to be deleted, whatever its age
				continue
			}
			age := now.Sub(k.Created)
			if age > maxAge {
				out = append(out, Finding{Check: CheckOldKey, Severity: SeverityMedium, User: u.Name, ARN: u.ARN, Slot: k.Slot, AccessKeyID: k.AccessKeyID,
					Created: k.Created, LastUsed: k.LastUsed,
					Detail: fmt.Sprintf("key %d days old (limit %d): rotate it (keyleak rotate --key …)", days(age), days(maxAge))})
			}
			switch {
			case k.LastUsed.IsZero() && age > maxUnused:
				out = append(out, Finding{Check: CheckUnusedKey, Severity: SeverityMedium, User: u.Name, ARN: u.ARN, Slot: k.Slot, AccessKeyID: k.AccessKeyID,
					Created: k.Created,
					Detail:  fmt.Sprintf("never used in the %d days since it was made: nothing needs it; deactivate it, then delete it", days(age))})
			case !k.LastUsed.IsZero() && now.Sub(k.LastUsed) > maxUnused:
				out = append(out, Finding{Check: CheckUnusedKey, Severity: SeverityMedium, User: u.Name, ARN: u.ARN, Slot: k.Slot, AccessKeyID: k.AccessKeyID,
					Created: k.Created, LastUsed: k.LastUsed,
					Detail: fmt.Sprintf("not used for %d days: deactivate it, then delete it if nothing breaks", days(now.Sub(k.LastUsed)))})
			}
		}
	}
	rank := map[string]int{SeverityHigh: 0, SeverityMedium: 1, SeverityLow: 2}
	order := map[string]int{CheckRootKey: 0, CheckAdminKey: 1, CheckConsoleNoMFA: 2, CheckTwoActiveKeys: 3, CheckOldKey: 4, CheckUnusedKey: 5, CheckPoliciesUnread: 6}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] < rank[b.Severity]
		}
		if order[a.Check] != order[b.Check] {
			return order[a.Check] < order[b.Check]
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.Slot < b.Slot
	})
	return out
}
