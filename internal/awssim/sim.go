// Package awssim is a simulated AWS account served over HTTP on loopback.
//
// It speaks the real wire protocols (IAM and STS: awsQuery; EC2: ec2Query;
// CloudTrail and GuardDuty: JSON; Lambda: REST JSON), reads the caller's key
// and region from the SigV4 Authorization header, keeps the state of the
// account, and records every call as a CloudTrail event in the region's store,
// as AWS does. Scenarios (YAML) declare an account and a timeline of actions;
// each action goes through the same code as an HTTP request, so the resource
// state and the CloudTrail records always agree. GET /_sim/truth returns the
// ground truth that tests compare keyleak's findings with.
package awssim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Sim is one simulated AWS account, or several (an organization: see
// accounts.go). All state is guarded by mu; handlers run with mu held, so a
// call is atomic against every other call.
type Sim struct {
	mu      sync.Mutex
	now     func() time.Time
	acct    *account // the account the current call runs in (home between calls)
	home    *account // the account New made: the scenario's account
	others  []*account
	org     *organization
	ops     map[string]map[string]handler // service -> action -> handler
	rng     *mrand.Rand
	seq     uint64            // counter for deterministic-looking IDs
	leaked  string            // the scenario's leaked key, for /_sim/truth
	actors  map[string]string // access key ID -> actor of the scenario ("attacker", "workload", "responder", "aws")
	faults  Faults
	limits  *lookupLimiter
	stopped chan struct{}
	bg      sync.WaitGroup
	scen    *scenarioRun // the scenario replayed into this account, if any
	// lakeState holds the CloudTrail Lake queries started (lake.go).
	lakeState *lakeState
	// supportState holds the support plan and cases (support.go).
	supportState *supportState
	// creators maps "Type|Name" of every resource a call created to the
	// actor of that call, so truth can tell the attacker's resources even
	// when the key that made them is shared with the workload.
	creators map[string]string
	// replayed marks an account that holds real records (Replay): truth's
	// derived keys are read from them.
	replayed bool
}

// Option configures a Sim.
type Option func(*Sim)

// WithClock sets the simulator's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Sim) { s.now = now } }

// WithSeed makes generated IDs and volume events reproducible.
func WithSeed(seed uint64) Option {
	return func(s *Sim) { s.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithAccountID sets the 12-digit account ID (default 123456789012).
func WithAccountID(id string) Option { return func(s *Sim) { s.acct.ID = id } }

// WithFaults sets the injected faults.
func WithFaults(f Faults) Option { return func(s *Sim) { s.applyFaults(f) } }

// WithLookupRate sets the CloudTrail LookupEvents throttle per region
// (requests per second and burst; default 2 and 2, as AWS documents).
func WithLookupRate(perSecond float64, burst int) Option {
	return func(s *Sim) { s.limits = newLookupLimiter(perSecond, burst) }
}

// New returns an empty simulated account: no users, all default regions,
// the AWS managed policies.
func New(opts ...Option) *Sim {
	s := &Sim{
		now:      time.Now,
		acct:     newAccount("123456789012"),
		rng:      mrand.New(mrand.NewPCG(1, 2)),
		actors:   map[string]string{},
		creators: map[string]string{},
		limits:   newLookupLimiter(2, 2),
		stopped:  make(chan struct{}),
	}
	s.home = s.acct
	for _, o := range opts {
		o(s)
	}
	s.ops = allOps()
	return s
}

// AccountID returns the home account's ID.
func (s *Sim) AccountID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.home.ID
}

// LeakedKey returns the scenario's leaked access key ID ("" without scenario).
func (s *Sim) LeakedKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaked
}

// Close stops the scenario's background actors and waits for them.
func (s *Sim) Close() {
	s.mu.Lock()
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
	s.mu.Unlock()
	s.bg.Wait()
}

// newID returns a random-looking ID of n hex characters from the simulator's
// seeded generator. Called with mu held.
func (s *Sim) newHex(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	return hex.EncodeToString(b)[:n]
}

// base32 alphabet of AWS access key IDs and unique IDs.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newUniqueID returns an AWS-style ID: the prefix (AKIA, ASIA, AIDA, AROA, ...)
// and 16 characters of the base-32 alphabet. Called with mu held.
func (s *Sim) newUniqueID(prefix string) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = idAlphabet[s.rng.IntN(len(idAlphabet))]
	}
	return prefix + string(b)
}

// newSecret returns a 40-character secret access key. Called with mu held.
func (s *Sim) newSecret() string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	for i := range b {
		b[i] = alpha[s.rng.IntN(len(alpha))]
	}
	return string(b)
}

// newUUID returns a version-4 UUID for event and request IDs. It uses the
// seeded generator so that a seeded scenario is reproducible. Called with mu held.
func (s *Sim) newUUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// cryptoToken returns a random session token; it never needs to be reproducible.
func cryptoToken() string {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "FwoGZXIvYXdzE" + hex.EncodeToString(b)
}

// merged joins the handler sets of one service kept in several files.
func merged(sets ...map[string]handler) map[string]handler {
	out := map[string]handler{}
	for _, m := range sets {
		maps.Copy(out, m)
	}
	return out
}

// allOps returns every service's handlers, by service and action.
func allOps() map[string]map[string]handler {
	return map[string]map[string]handler{
		"iam":            merged(iamOps(), iamProviderOps()),
		"sts":            stsOps(),
		"ec2":            ec2Ops(),
		"lambda":         merged(lambdaOps(), lambdaAccessOps()),
		"cloudtrail":     merged(cloudtrailOps(), trailOps()),
		"guardduty":      merged(guarddutyOps(), detectorOps()),
		"secretsmanager": secretsmanagerOps(),
		"organizations":  merged(organizationsOps(), map[string]handler{"LeaveOrganization": orgLeave}),
		"support":        supportOps(),
		"pricing":        pricingOps(),
		"ce":             ceOps(),
		"autoscaling":    autoscalingOps(),
		"ecs":            ecsOps(),
		"eks":            eksOps(),
		"batch":          batchOps(),
		"lightsail":      lightsailOps(),
		"sagemaker":      sagemakerOps(),
		"codebuild":      codebuildOps(),
		"glue":           glueOps(),
		"ses":            sesOps(),
		"bedrock":        bedrockOps(),
		"s3":             s3Ops(),
	}
}

// served is allOps, made once, for the scenario checks.
var served = sync.OnceValue(allOps)

// Serves tells whether the simulator serves an action of a service: a
// scenario records only (recordOnly) the calls it does not.
func Serves(service, action string) bool {
	_, ok := served()[service][action]
	return ok
}
