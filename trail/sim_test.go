package trail_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

// simFixture is a served simulator whose clock runs with the wall clock
// (its LookupEvents throttle must see time pass while the sweep paces
// itself), an account with a leaked key and a responder key.
type simFixture struct {
	sim       *awssim.Sim
	srv       *awssim.Server
	leaked    awssim.Credential
	responder awssim.Credential
	transport *http.Transport
}

func newSimFixture(t testing.TB) *simFixture {
	t.Helper()
	base, start := time.Now().UTC().Truncate(time.Second), time.Now()
	s := awssim.New(awssim.WithClock(func() time.Time { return base.Add(time.Since(start)) }), awssim.WithSeed(3))
	created := base.Add(-300 * 24 * time.Hour)
	for _, u := range []string{"alice", "responder"} {
		if err := s.AddUser(u, created, "AdministratorAccess"); err != nil {
			t.Fatal(err)
		}
	}
	leakedKey, err := s.AddAccessKey("alice", created, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "")
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeakedKey(leakedKey.AccessKeyID)
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &simFixture{sim: s, srv: srv, leaked: *leakedKey, responder: *resp, transport: &http.Transport{}}
	t.Cleanup(func() {
		f.transport.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("close simulator: %v", err)
		}
	})
	return f
}

// config is the aws.Config of a credential in a region, with request bodies
// sent from memory (see bodyInMemory).
func (f *simFixture) config(cred awssim.Credential, region string) aws.Config {
	cfg := f.srv.Config(cred, region)
	cfg.HTTPClient = &http.Client{Transport: bodyInMemory{f.transport}}
	return cfg
}

// bodyInMemory hands net/http request bodies as bytes.Readers. Against a
// loopback server net/http may otherwise see the SDK close a streamed body
// before it finished its own length check, and drop the connection (see
// the simulator's own tests).
type bodyInMemory struct{ base http.RoundTripper }

func (b bodyInMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.base.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	if cerr := r.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return b.base.RoundTrip(r2)
}

// sweep lists the regions as the responder and sweeps the leaked key with
// real SDK clients.
func (f *simFixture) sweep(t testing.TB, opts ...trail.Option) *trail.Investigation {
	t.Helper()
	ctx := context.Background()
	regions, err := trail.ListRegions(ctx, ec2.NewFromConfig(f.config(f.responder, "us-east-1")))
	if err != nil {
		t.Fatal(err)
	}
	clients := func(region string) cloudtrail.LookupEventsAPIClient {
		return cloudtrail.NewFromConfig(f.config(f.responder, region), trail.NoSDKRetries)
	}
	inv, err := trail.NewSweep(regions, clients, opts...).Run(ctx, f.leaked.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// truthEvents returns the IDs of the simulator's events made by the leaked
// key and the keys derived from it.
func (f *simFixture) truthEvents(t testing.TB) (map[string]bool, awssim.Truth) {
	t.Helper()
	truth := f.sim.Truth()
	keys := map[string]bool{truth.LeakedKey: true}
	for _, k := range truth.DerivedKeys {
		keys[k.AccessKeyID] = true
	}
	ids := map[string]bool{}
	for _, e := range truth.Events {
		if keys[e.AccessKeyID] {
			ids[e.EventID] = true
		}
	}
	return ids, truth
}

// attack makes the leaked key issue a session token and uses the session in
// two regions, as the attacker of the design's incident would.
func (f *simFixture) attack(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	out, err := sts.NewFromConfig(f.config(f.leaked, "us-east-1")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatalf("get session token: %v", err)
	}
	c := out.Credentials
	session := awssim.Credential{AccessKeyID: aws.ToString(c.AccessKeyId), Secret: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
	for _, region := range []string{"eu-west-1", "ap-southeast-2"} {
		if _, err := ec2.NewFromConfig(f.config(session, region)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
			t.Fatalf("describe instances with the session in %s: %v", region, err)
		}
	}
	return session.AccessKeyID
}

// TestSweepSimulator sweeps the simulator with real SDK clients at the real
// pace: it must find exactly the events the simulator recorded for the key
// and its session, region by region.
func TestSweepSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at 2 requests a second per region")
	}
	f := newSimFixture(t)
	// A region the account has not opted in to holds no events; it must be
	// listed and never queried. (It is an opt-in region: the regions
	// enabled by default cannot be disabled, and are searched whatever the
	// listing says.)
	f.sim.SetFaults(awssim.Faults{DisableRegions: []string{"ap-east-1"}})
	if err := f.sim.AddVolume(300, f.leaked.AccessKeyID, 42, 72*time.Hour); err != nil {
		t.Fatal(err)
	}
	session := f.attack(t)
	inv := f.sweep(t)

	want, truth := f.truthEvents(t)
	got := eventIDs(inv.Events)
	if len(inv.Events) != len(want) || len(got) != len(want) {
		t.Errorf("found %d events (%d distinct), simulator has %d", len(inv.Events), len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s missing", id)
		}
	}
	if len(inv.Keys) != 2 || inv.Keys[1].AccessKeyID != session || inv.Keys[1].Via != "GetSessionToken" ||
		!inv.Keys[1].MayBeValid || inv.Keys[1].Expiration.IsZero() {
		t.Errorf("keys = %+v", inv.Keys)
	}
	if len(truth.DerivedKeys) != 1 || truth.DerivedKeys[0].EventID != inv.Keys[1].EventID {
		t.Errorf("derived keys: truth %+v, sweep %+v", truth.DerivedKeys, inv.Keys)
	}
	if st := status(inv, "ap-east-1"); st.State != trail.StateNotEnabled || st.Pages != 0 {
		t.Errorf("ap-east-1 = %+v", st)
	}
	perRegion := map[string]int{}
	for _, e := range truth.Events {
		if want[e.EventID] {
			perRegion[e.Region]++
		}
	}
	for _, s := range inv.Coverage.Sources {
		if s.State == trail.StateNotEnabled {
			continue
		}
		if s.State != trail.StateOK || s.Events != perRegion[s.Name] || s.Lookups != 2 {
			t.Errorf("%s: %+v, simulator has %d events", s.Name, s, perRegion[s.Name])
		}
	}
	if inv.Coverage.Failed() {
		t.Errorf("coverage failed: %s", inv.Coverage.Summary())
	}
}

// TestSweepSimulatorFaults injects throttle storms, 5xx bursts and a denied
// region: nothing may be lost or counted twice where reading succeeded.
func TestSweepSimulatorFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at 2 requests a second per region")
	}
	f := newSimFixture(t)
	if err := f.sim.AddVolume(200, f.leaked.AccessKeyID, 7, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	f.attack(t)
	f.sim.SetFaults(awssim.Faults{ThrottleStorm: 6, FailEvery: 4, FailBurst: 1, FailServices: []string{"cloudtrail"},
		DenyRegions: []string{"sa-east-1"}})
	inv := f.sweep(t, trail.WithBackoff(10*time.Millisecond, 40*time.Millisecond), trail.WithMaxAttempts(10))

	want, truth := f.truthEvents(t)
	denied := map[string]bool{}
	for _, e := range truth.Events {
		if want[e.EventID] && e.Region == "sa-east-1" {
			denied[e.EventID] = true
		}
	}
	got := eventIDs(inv.Events)
	if len(inv.Events) != len(got) {
		t.Errorf("%d events, %d distinct", len(inv.Events), len(got))
	}
	for id := range want {
		if !got[id] && !denied[id] {
			t.Errorf("event %s missing", id)
		}
	}
	if len(got) != len(want)-len(denied) {
		t.Errorf("found %d events, want %d", len(got), len(want)-len(denied))
	}
	throttles, retries := 0, 0
	for _, s := range inv.Coverage.Sources {
		throttles += s.Throttles
		retries += s.Retries
	}
	if throttles < 6 || retries < throttles {
		t.Errorf("%d throttles, %d retries; the storm alone throttles 6 requests", throttles, retries)
	}
	if st := status(inv, "sa-east-1"); st.State != trail.StateDenied {
		t.Errorf("sa-east-1 = %+v", st)
	}
	if !inv.Coverage.Failed() || !slices.ContainsFunc(inv.Result().Regions, func(r trail.SourceResult) bool {
		return r.Region == "sa-east-1" && r.Status == trail.StateDenied && r.Error != ""
	}) {
		t.Error("denied region not reported")
	}
}
