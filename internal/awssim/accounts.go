package awssim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A Sim holds one home account and, for organizations, further accounts.
// Every credential lives in exactly one account's Keys; a call runs in the
// account of its caller's credential (do swaps Sim.acct for the duration of
// the call), so its handler sees that account's state and its CloudTrail
// record lands in that account's stores, as in AWS.

// accountIDPattern is a 12-digit AWS account ID.
var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// organization is the AWS Organizations organization the accounts belong to.
type organization struct {
	ID     string // o-xxxxxxxxxx
	Master string // management account ID
}

// AddAccount adds an empty account (default regions, the AWS managed
// policies) to the simulator, e.g. a member account of an organization.
func (s *Sim) AddAccount(id, alias string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.addAccount(id, alias)
	return err
}

// addAccount adds an account. Called with mu held.
func (s *Sim) addAccount(id, alias string) (*account, error) {
	if !accountIDPattern.MatchString(id) {
		return nil, fmt.Errorf("add account %q: want 12 digits", id)
	}
	if s.accountByID(id) != nil {
		return nil, fmt.Errorf("add account %s: already exists", id)
	}
	a := newAccount(id)
	a.Alias = alias
	a.Joined = s.now().UTC()
	s.others = append(s.others, a)
	return a, nil
}

// SetOrganization makes every account of the simulator a member of the
// organization id (o-...) whose management account is master.
func (s *Sim) SetOrganization(id, master string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(id, "o-") || len(id) < 12 {
		return fmt.Errorf("set organization %q: want o- and at least 10 characters", id)
	}
	if s.accountByID(master) == nil {
		return fmt.Errorf("set organization %s: no account %s", id, master)
	}
	s.org = &organization{ID: id, Master: master}
	for _, a := range s.allAccounts() {
		if a.Joined.IsZero() {
			a.Joined = s.now().UTC()
		}
	}
	return nil
}

// Accounts returns the IDs of the simulator's accounts, the home account
// first, then the others in the order they were added.
func (s *Sim) Accounts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{s.home.ID}
	for _, a := range s.others {
		out = append(out, a.ID)
	}
	return out
}

// InAccount runs f with the set-up functions (AddUser, AddAccessKey,
// AddRole, ...) acting on account id instead of the home account. It is for
// building the simulator before it serves: calls made while f runs still go
// to their caller's account, but f itself must not run them.
func (s *Sim) InAccount(id string, f func() error) error {
	s.mu.Lock()
	a := s.accountByID(id)
	if a == nil {
		s.mu.Unlock()
		return fmt.Errorf("use account %s: no such account", id)
	}
	prev := s.acct
	s.acct = a
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.acct = prev
		s.mu.Unlock()
	}()
	return f()
}

// AddRole creates an IAM role in the current set-up account (see
// InAccount) with a trust policy and managed policies by name or ARN.
func (s *Sim) AddRole(name, trustPolicy string, created time.Time, managedPolicies ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.Roles[name]; ok {
		return fmt.Errorf("add role %s: already exists", name)
	}
	r := &Role{Name: name, ID: s.newUniqueID("AROA"), Path: "/", Created: created.UTC(), AssumeRolePolicy: trustPolicy,
		Inline: map[string]string{}, MaxSession: time.Hour}
	if err := s.applyPolicies(&r.Attached, r.Inline, managedPolicies, nil); err != nil {
		return fmt.Errorf("add role %s: %w", name, err)
	}
	s.acct.Roles[name] = r
	return nil
}

// accountByID returns the account with the ID, nil if the simulator has
// none. Called with mu held.
func (s *Sim) accountByID(id string) *account {
	if s.home.ID == id {
		return s.home
	}
	for _, a := range s.others {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// allAccounts lists the accounts, home first. Called with mu held.
func (s *Sim) allAccounts() []*account {
	return append([]*account{s.home}, s.others...)
}

// keyAccount returns the account that holds the access key, nil if none
// does. Called with mu held.
func (s *Sim) keyAccount(id string) *account {
	if _, ok := s.home.Keys[id]; ok {
		return s.home
	}
	for _, a := range s.others {
		if _, ok := a.Keys[id]; ok {
			return a
		}
	}
	return nil
}

// enter makes a the account the current call runs in, with its own
// LookupEvents throttle, and returns what restores the previous one.
// Called with mu held.
func (s *Sim) enter(a *account) (restore func()) {
	prevAcct, prevLimits := s.acct, s.limits
	s.acct = a
	if a != s.home {
		if a.limits == nil || a.limits.perSec != s.limits.perSec || a.limits.burst != s.limits.burst {
			a.limits = newLookupLimiter(s.limits.perSec, s.limits.burst)
		}
		s.limits = a.limits
	}
	return func() { s.acct, s.limits = prevAcct, prevLimits }
}

// roleAccount returns the account of a role ARN when it is another account
// of the simulator than the current one, nil otherwise. Called with mu held.
func (s *Sim) roleAccount(arn string) *account {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok || len(rest) < 12 {
		return nil
	}
	id := rest[:12]
	if id == s.acct.ID {
		return nil
	}
	return s.accountByID(id)
}

// sortedAccounts returns the accounts ordered by ID, for ListAccounts.
// Called with mu held.
func (s *Sim) sortedAccounts() []*account {
	all := s.allAccounts()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}

// SetImplicitDeny makes the current set-up account (see InAccount) evaluate
// Allow statements and trust policies, as AWS does: what no policy allows
// is denied.
func (s *Sim) SetImplicitDeny(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct.ImplicitDeny = on
}
