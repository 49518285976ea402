package awssim

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/keyleak/keyleak/internal/awsapi"
)

// AddUser creates an IAM user as part of the account's set-up (no CloudTrail
// record, no creator), with the given managed policies attached by name
// ("AdministratorAccess") or ARN.
func (s *Sim) AddUser(name string, created time.Time, managedPolicies ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.Users[name]; ok {
		return fmt.Errorf("add user %s: already exists", name)
	}
	u := &User{Name: name, ID: s.newUniqueID("AIDA"), Path: "/", Created: created.UTC(), Inline: map[string]string{}}
	for _, p := range managedPolicies {
		arn := p
		if _, ok := s.acct.Policies[arn]; !ok {
			arn = "arn:aws:iam::aws:policy/" + p
		}
		if _, ok := s.acct.Policies[arn]; !ok {
			return fmt.Errorf("add user %s: no managed policy %s", name, p)
		}
		u.Attached = append(u.Attached, arn)
	}
	s.acct.Users[name] = u
	return nil
}

// AddAccessKey gives a user a long-term access key as part of the account's
// set-up and returns it. The actor labels the key's calls over HTTP in
// /_sim/truth ("" leaves them "responder").
func (s *Sim) AddAccessKey(user string, created time.Time, actor string) (*Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.Users[user]; !ok {
		return nil, fmt.Errorf("add access key: no user %s", user)
	}
	k := &Credential{AccessKeyID: s.newUniqueID("AKIA"), Secret: s.newSecret(), Kind: KindUserKey,
		UserName: user, Status: "Active", Created: created.UTC()}
	s.acct.Keys[k.AccessKeyID] = k
	if actor != "" {
		s.actors[k.AccessKeyID] = actor
	}
	cp := *k
	return &cp, nil
}

// AddRootKey gives the root user an access key as part of the set-up.
func (s *Sim) AddRootKey(created time.Time) *Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := &Credential{AccessKeyID: s.newUniqueID("AKIA"), Secret: s.newSecret(), Kind: KindRootKey,
		Status: "Active", Created: created.UTC()}
	s.acct.Keys[k.AccessKeyID] = k
	s.acct.RootKeys = append(s.acct.RootKeys, k.AccessKeyID)
	cp := *k
	return &cp
}

// SetLeakedKey names the key /_sim/truth reports as leaked.
func (s *Sim) SetLeakedKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaked = id
}

// Key returns a copy of a credential the account knows.
func (s *Sim) Key(id string) (Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.keyAccount(id)
	if a == nil {
		return Credential{}, false
	}
	return *a.Keys[id], true
}

// Config returns an aws.Config that sends every request of the given
// credential to this server. It is built by hand rather than with
// config.LoadDefaultConfig so that nothing from the environment (profiles,
// AWS_CA_BUNDLE, real endpoints) can leak in.
func (srv *Server) Config(cred Credential, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.Secret, cred.SessionToken),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       awsapi.BufferBodies(nil),
	}
}
