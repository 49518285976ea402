package playbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// QuarantinePolicyPrefix names AWS's managed quarantine policies
// (AWSCompromisedKeyQuarantine, …V2, …V3 and any later version).
const QuarantinePolicyPrefix = "AWSCompromisedKeyQuarantine"

// Access levels, from most to least dangerous.
const (
	AccessAdministrator = "administrator"
	AccessIAMWrite      = "can-write-iam"
	AccessPowerUser     = "power-user"
	AccessWrite         = "can-write"
	AccessReadOnly      = "read-only"
	AccessNone          = "none"
)

var accessRank = map[string]int{AccessNone: 0, AccessReadOnly: 1, AccessWrite: 2, AccessPowerUser: 3, AccessIAMWrite: 4, AccessAdministrator: 5}

// Access is what the key's owner may do: the blast radius of the leak.
type Access struct {
	Level    string      `json:"level"`
	Summary  string      `json:"summary"` // one plain sentence
	Services []string    `json:"services,omitempty"`
	Policies []PolicyRef `json:"policies"`
	// Escalation are the published privilege-escalation paths the
	// policies grant: how the key could raise itself above Level.
	Escalation []EscalationPath `json:"escalation,omitempty"`
	// MFA is what stood between the key and the account's roles; nil when
	// it was not read (a root key, or ListMFADevices denied).
	MFA *MFAGap `json:"mfa,omitempty"`
}

// MFAGap is the part of seed 003's setup the owner lacked: an MFA device,
// and MFA asked for before roles are assumed.
type MFAGap struct {
	// Devices is how many MFA devices the owner has.
	Devices int `json:"devices"`
	// AssumeWithoutMFA are the roles (Resource patterns) the policies let
	// the key assume with no aws:MultiFactorAuthPresent or
	// aws:MultiFactorAuthAge condition: whoever holds the key becomes them.
	AssumeWithoutMFA []string `json:"assumeWithoutMfa,omitempty"`
	// Summary says it in plain words; "" when nothing is missing.
	Summary string `json:"summary,omitempty"`
}

// Gap reports whether anything of the setup is missing.
func (g *MFAGap) Gap() bool { return g != nil && g.Summary != "" }

// mfaConditionKeys are the condition keys that make a role assumption ask
// for MFA.
var mfaConditionKeys = []string{"aws:multifactorauthpresent", "aws:multifactorauthage"}

// AssumeWithoutMFA lists the Resource patterns of the Allow statements that
// grant sts:AssumeRole without an MFA condition. Like ClassifyAccess it reads
// the policies as written and errs on the side of danger: a statement with
// some other condition still counts, one with an MFA condition does not.
func AssumeWithoutMFA(policies []PolicyRef) []string {
	var out []string
	for _, p := range policies {
		for _, s := range parseStatements(p.Doc) {
			if !strings.EqualFold(s.Effect, "Allow") || s.mfaConditioned {
				continue
			}
			grants := matchAction(s.Action, "sts:AssumeRole")
			if len(s.NotAction) > 0 {
				grants = !matchAction(s.NotAction, "sts:AssumeRole")
			}
			if !grants {
				continue
			}
			res := s.Resource
			if len(res) == 0 {
				res = []string{"*"}
			}
			out = append(out, res...)
		}
	}
	return dedupe(out)
}

// mfaGap judges the owner's MFA against seed 003's setup.
func mfaGap(owner string, devices int, policies []PolicyRef) *MFAGap {
	g := &MFAGap{Devices: devices, AssumeWithoutMFA: AssumeWithoutMFA(policies)}
	var gaps []string
	if devices == 0 {
		gaps = append(gaps, fmt.Sprintf("%s has no MFA device", ownerLabel(owner)))
	}
	if len(g.AssumeWithoutMFA) > 0 {
		gaps = append(gaps, fmt.Sprintf("its policies let the key assume roles (%s) without aws:MultiFactorAuthPresent, so whoever holds the key can become them",
			strings.Join(g.AssumeWithoutMFA, ", ")))
	}
	if len(gaps) > 0 {
		g.Summary = strings.Join(gaps, ", and ") + ": the key alone was enough; the report's recommendations show the bastion-and-MFA setup that closes this"
	}
	return g
}

// PolicyRef is one policy that applies to the owner.
type PolicyRef struct {
	Name   string `json:"name"`
	ARN    string `json:"arn,omitempty"` // managed policies
	Source string `json:"source"`        // "inline", "attached", "group NAME (inline)", "group NAME"
	Doc    string `json:"-"`             // the document, for classification
}

func scopeStep() Step {
	return Step{
		ID:    StepScope,
		Title: "Assess what the key may do",
		Why: "The owner's policies bound what the attacker could have done: an administrator key means every region and every service must be checked, " +
			"a read-only key means data may have been copied. It also tells whether AWS has already quarantined the key.",
		Idempotent: true,
		Calls: []string{"iam:ListAccessKeys", "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListAttachedUserPolicies",
			"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListGroupsForUser", "iam:ListGroupPolicies", "iam:GetGroupPolicy",
			"iam:ListAttachedGroupPolicies", "iam:ListMFADevices"},
		Prepare: prepareScope,
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			if len(st.Quarantine) > 0 {
				st.Warn("AWS has attached %s to %s: AWS found the key exposed; keep the policy attached until the incident is closed",
					strings.Join(st.Quarantine, ", "), ownerLabel(st.Owner))
			}
			if st.Access != nil && st.Access.MFA.Gap() {
				st.Warn("%s", st.Access.MFA.Summary)
			}
			return nil, nil
		},
	}
}

func prepareScope(ctx context.Context, st *State) error {
	if st.Root {
		keys, err := listKeys(ctx, st, "")
		st.Keys = keys
		st.Access = &Access{Level: AccessAdministrator, Summary: "root user: the key may do anything in the account, and no policy can restrict it"}
		return err
	}
	user := aws.String(st.Owner)
	var (
		keys                   []KeyInfo
		inlineNames            []string
		attached               []PolicyRef
		groups                 []string
		mfaDevices             = -1 // unknown until read
		mu                     sync.Mutex
		groupInline            = map[string][]string{}
		docs                   []PolicyRef
		managedByARN           = map[string]bool{}
		managedInOrderOfSource []PolicyRef
	)
	// Stage A: the four lists that need only the user name.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { keys, err = listKeys(gctx, st, st.Owner); return err })
	g.Go(func() error {
		p := iam.NewListUserPoliciesPaginator(st.IAM, &iam.ListUserPoliciesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(gctx)
			if err != nil {
				return fmt.Errorf("list user policies: %w", err)
			}
			inlineNames = append(inlineNames, page.PolicyNames...)
		}
		return nil
	})
	g.Go(func() error {
		p := iam.NewListAttachedUserPoliciesPaginator(st.IAM, &iam.ListAttachedUserPoliciesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(gctx)
			if err != nil {
				return fmt.Errorf("list attached user policies: %w", err)
			}
			for _, ap := range page.AttachedPolicies {
				attached = append(attached, PolicyRef{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn), Source: "attached"})
			}
		}
		return nil
	})
	g.Go(func() error {
		p := iam.NewListGroupsForUserPaginator(st.IAM, &iam.ListGroupsForUserInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(gctx)
			if err != nil {
				return fmt.Errorf("list groups for user: %w", err)
			}
			for _, gr := range page.Groups {
				groups = append(groups, aws.ToString(gr.GroupName))
			}
		}
		return nil
	})
	g.Go(func() error {
		// What seed 003 would have asked of the key's owner. Not being
		// allowed to read it costs only this judgement.
		out, err := st.IAM.ListMFADevices(gctx, &iam.ListMFADevicesInput{UserName: user})
		var denied *AccessDeniedError
		switch {
		case errors.As(err, &denied) || isCode(err, "AccessDenied"):
			return nil
		case err != nil:
			return fmt.Errorf("list MFA devices: %w", err)
		}
		mfaDevices = len(out.MFADevices)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	st.Keys = keys

	// Stage B: each group's policies.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, name := range groups {
		g.Go(func() error {
			p := iam.NewListGroupPoliciesPaginator(st.IAM, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return fmt.Errorf("list group policies: %w", err)
				}
				mu.Lock()
				groupInline[name] = append(groupInline[name], page.PolicyNames...)
				mu.Unlock()
			}
			return nil
		})
		g.Go(func() error {
			p := iam.NewListAttachedGroupPoliciesPaginator(st.IAM, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return fmt.Errorf("list attached group policies: %w", err)
				}
				mu.Lock()
				for _, ap := range page.AttachedPolicies {
					attached = append(attached, PolicyRef{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn), Source: "group " + name})
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	// Stage C: the documents. A managed policy attached twice is read once.
	for _, ref := range attached {
		if strings.HasPrefix(ref.Name, QuarantinePolicyPrefix) && !contains(st.Quarantine, ref.Name) {
			st.Quarantine = append(st.Quarantine, ref.Name)
		}
		if !managedByARN[ref.ARN] {
			managedByARN[ref.ARN] = true
			managedInOrderOfSource = append(managedInOrderOfSource, ref)
		}
	}
	docOf := map[string]string{}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	add := func(ref PolicyRef) {
		mu.Lock()
		defer mu.Unlock()
		docs = append(docs, ref)
	}
	for _, name := range inlineNames {
		g.Go(func() error {
			out, err := st.IAM.GetUserPolicy(gctx, &iam.GetUserPolicyInput{UserName: user, PolicyName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("read user policy %s: %w", name, err)
			}
			add(PolicyRef{Name: name, Source: "inline", Doc: decodeDoc(aws.ToString(out.PolicyDocument))})
			return nil
		})
	}
	for gname, names := range groupInline {
		for _, name := range names {
			g.Go(func() error {
				out, err := st.IAM.GetGroupPolicy(gctx, &iam.GetGroupPolicyInput{GroupName: aws.String(gname), PolicyName: aws.String(name)})
				if err != nil {
					return fmt.Errorf("read group policy %s: %w", name, err)
				}
				add(PolicyRef{Name: name, Source: "group " + gname + " (inline)", Doc: decodeDoc(aws.ToString(out.PolicyDocument))})
				return nil
			})
		}
	}
	for _, ref := range managedInOrderOfSource {
		g.Go(func() error {
			doc, err := managedDoc(gctx, st, ref.ARN)
			if err != nil {
				return err
			}
			mu.Lock()
			docOf[ref.ARN] = doc
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, ref := range attached {
		ref.Doc = docOf[ref.ARN]
		docs = append(docs, ref)
	}
	sort.SliceStable(docs, func(i, j int) bool {
		if docs[i].Source != docs[j].Source {
			return docs[i].Source < docs[j].Source
		}
		return docs[i].Name < docs[j].Name
	})
	st.Access = ClassifyAccess(docs)
	if mfaDevices >= 0 {
		st.Access.MFA = mfaGap(st.Owner, mfaDevices, docs)
	}
	return nil
}

// managedDoc reads a managed policy's default version.
func managedDoc(ctx context.Context, st *State, arn string) (string, error) {
	p, err := st.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read policy %s: %w", arn, err)
	}
	if p.Policy == nil || p.Policy.DefaultVersionId == nil {
		return "", fmt.Errorf("read policy %s: no default version", arn)
	}
	v, err := st.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return "", fmt.Errorf("read policy version %s: %w", arn, err)
	}
	if v.PolicyVersion == nil {
		return "", fmt.Errorf("read policy version %s: empty answer", arn)
	}
	return decodeDoc(aws.ToString(v.PolicyVersion.Document)), nil
}

// decodeDoc undoes the URL encoding IAM applies to policy documents.
func decodeDoc(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if dec, err := url.QueryUnescape(doc); err == nil {
		return dec
	}
	return doc
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readVerbs start the names of actions that only read.
var readVerbs = []string{"Get", "List", "Describe", "Lookup", "Search", "Select", "BatchGet", "View", "Query", "Scan", "Head"}

func isReadAction(verb string) bool {
	if verb == "" || strings.ContainsAny(verb[:1], "*?") {
		return false
	}
	for _, p := range readVerbs {
		if strings.HasPrefix(verb, p) {
			return true
		}
	}
	return false
}

// iamWriteProbe is an IAM write no "not IAM" exclusion leaves standing.
const iamWriteProbe = "iam:CreateAccessKey"

// ClassifyAccess says in one word and one sentence what the Allow statements
// of the policies grant. Policies are read as written: resource scoping,
// conditions, permission boundaries and SCPs may grant less, never more, so
// the verdict errs on the side of danger.
func ClassifyAccess(policies []PolicyRef) *Access {
	a := &Access{Level: AccessNone, Policies: policies}
	if a.Policies == nil {
		a.Policies = []PolicyRef{}
	}
	raise := func(l string) {
		if accessRank[l] > accessRank[a.Level] {
			a.Level = l
		}
	}
	writes, reads := map[string]bool{}, map[string]bool{}
	var excluded []string
	for _, p := range policies {
		for _, s := range parseStatements(p.Doc) {
			if !strings.EqualFold(s.Effect, "Allow") {
				continue
			}
			if len(s.NotAction) > 0 {
				if matchAction(s.NotAction, iamWriteProbe) {
					raise(AccessPowerUser)
					excluded = append(excluded, s.NotAction...)
				} else {
					raise(AccessIAMWrite)
				}
				continue
			}
			for _, act := range s.Action {
				if act == "*" || act == "*:*" {
					raise(AccessAdministrator)
					continue
				}
				svc, verb, _ := strings.Cut(act, ":")
				svc = strings.ToLower(svc)
				if isReadAction(verb) {
					reads[svc] = true
					raise(AccessReadOnly)
					continue
				}
				if svc == "iam" || svc == "*" {
					raise(AccessIAMWrite)
				}
				writes[svc] = true
				raise(AccessWrite)
			}
		}
	}
	switch a.Level {
	case AccessAdministrator:
		a.Summary = "administrator: the key may do anything in the account, including creating users, keys and roles"
	case AccessIAMWrite:
		a.Summary = "can write IAM: the key may create users, keys or policies — enough to give itself full control of the account"
	case AccessPowerUser:
		a.Summary = fmt.Sprintf("power user: the key may do anything except %s — launch instances, read and delete data in every region", strings.Join(dedupe(excluded), ", "))
	case AccessWrite:
		a.Services = sortedKeys(writes)
		a.Summary = fmt.Sprintf("can change resources in %s (no IAM)", strings.Join(a.Services, ", "))
	case AccessReadOnly:
		a.Services = sortedKeys(reads)
		a.Summary = fmt.Sprintf("read-only: the key may read in %s — data may have been copied", strings.Join(a.Services, ", "))
	default:
		a.Summary = "no permissions: no policy grants the key's owner anything"
	}
	if a.Level == AccessWrite || a.Level == AccessAdministrator || a.Level == AccessIAMWrite {
		a.Services = sortedKeys(writes)
	}
	if a.Level != AccessAdministrator {
		// An administrator has nothing to escalate to.
		a.Escalation = EscalationPaths(policies)
		if len(a.Escalation) > 0 {
			// The first few name the way; -o json lists them all.
			ids := make([]string, 0, 3)
			for _, p := range a.Escalation[:min(3, len(a.Escalation))] {
				ids = append(ids, p.ID)
			}
			more := ""
			if n := len(a.Escalation) - len(ids); n > 0 {
				more = fmt.Sprintf(" and %d more", n)
			}
			a.Summary += fmt.Sprintf("; and it may make itself administrator through published escalation paths: %s%s", strings.Join(ids, ", "), more)
		}
	}
	return a
}

type stmt struct {
	Effect    string
	Action    []string
	NotAction []string
	Resource  []string
	// mfaConditioned: the statement's Condition names an MFA key.
	mfaConditioned bool
}

// parseStatements reads the statements of a policy document; a document
// that cannot be read grants nothing here (IAM would have refused it).
func parseStatements(doc string) []stmt {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil || len(p.Statement) == 0 {
		return nil
	}
	type raw struct {
		Effect    string
		Action    json.RawMessage
		NotAction json.RawMessage
		Resource  json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
	var list []raw
	if json.Unmarshal(p.Statement, &list) != nil {
		var one raw
		if json.Unmarshal(p.Statement, &one) != nil {
			return nil
		}
		list = []raw{one}
	}
	var out []stmt
	for _, r := range list {
		st := stmt{Effect: r.Effect, Action: stringList(r.Action), NotAction: stringList(r.NotAction), Resource: stringList(r.Resource)}
		for _, kv := range r.Condition {
			for key := range kv {
				st.mfaConditioned = st.mfaConditioned || contains(mfaConditionKeys, strings.ToLower(key))
			}
		}
		out = append(out, st)
	}
	return out
}

func stringList(b json.RawMessage) []string {
	if len(b) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(b, &many) // not a list of strings: grants nothing readable
	return many
}

// matchAction matches an action against IAM patterns with * and ?.
func matchAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if wildMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func wildMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
