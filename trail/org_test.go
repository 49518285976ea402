package trail_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/internal/awserr"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/memsample"
	"github.com/keyleak/keyleak/trail"
)

// orgFixture is a served simulator of several accounts and the responder's
// key in the home account.
type orgFixture struct {
	sim       *awssim.Sim
	srv       *awssim.Server
	responder awssim.Credential
	transport *http.Transport
}

func startOrg(t testing.TB, s *awssim.Sim, responder awssim.Credential) *orgFixture {
	t.Helper()
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &orgFixture{sim: s, srv: srv, responder: responder, transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	t.Cleanup(func() {
		f.transport.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("close simulator: %v", err)
		}
		s.Close()
	})
	return f
}

func (f *orgFixture) config(creds aws.CredentialsProvider, region string) aws.Config {
	cfg := f.srv.Config(f.responder, region)
	cfg.Credentials = creds
	cfg.HTTPClient = &http.Client{Transport: bodyInMemory{f.transport}}
	return cfg
}

// opener assumes role (none: the responder itself) in accounts other than
// home, as the CLI's --org does.
func (f *orgFixture) opener(home, role string) trail.AccountOpener {
	static := credentials.NewStaticCredentialsProvider(f.responder.AccessKeyID, f.responder.Secret, "")
	return func(ctx context.Context, account string) ([]trail.Region, func(string) cloudtrail.LookupEventsAPIClient, error) {
		creds := aws.CredentialsProvider(static)
		if account != home {
			out, err := sts.NewFromConfig(f.config(static, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
				RoleArn:         aws.String("arn:aws:iam::" + account + ":role/" + role),
				RoleSessionName: aws.String("keyleak"),
			})
			if err != nil {
				// One sentence for every account without the role, as the
				// CLI's opener says it, so that the coverage names them
				// together.
				return nil, nil, &openError{fmt.Sprintf("needs role %s: %s", role, awserr.Code(err)), err}
			}
			c := out.Credentials
			creds = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
		}
		regions, err := trail.ListRegions(ctx, ec2.NewFromConfig(f.config(creds, "us-east-1")))
		if err != nil {
			return nil, nil, err
		}
		return regions, func(region string) cloudtrail.LookupEventsAPIClient {
			return cloudtrail.NewFromConfig(f.config(creds, region), trail.NoSDKRetries)
		}, nil
	}
}

// openError is one sentence for every account the opener cannot enter,
// with the AWS error under it.
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// chainEvents are the truth's events of the leaked key and its derived keys.
func chainEvents(tr awssim.Truth) map[string]awssim.TruthEvent {
	chain := map[string]bool{tr.LeakedKey: true}
	for _, k := range tr.DerivedKeys {
		chain[k.AccessKeyID] = true
	}
	out := map[string]awssim.TruthEvent{}
	for _, e := range tr.Events {
		if chain[e.AccessKeyID] {
			out[e.EventID] = e
		}
	}
	return out
}

func orgPivot(t *testing.T) *orgFixture {
	t.Helper()
	sc, err := awssim.LoadScenario("org-pivot")
	if err != nil {
		t.Fatal(err)
	}
	base, start := time.Now().UTC().Truncate(time.Second), time.Now()
	s, err := awssim.NewFromScenario(sc, awssim.WithClock(func() time.Time { return base.Add(time.Since(start)) }),
		awssim.WithSeed(5), awssim.WithLookupRate(200, 200))
	if err != nil {
		t.Fatal(err)
	}
	return startOrg(t, s, s.Responder())
}

func TestOrgSweepFollowsPivotIntoMemberAccount(t *testing.T) {
	f := orgPivot(t)
	tr := f.sim.Truth()
	want := chainEvents(tr)
	accounts := map[string]bool{}
	for _, e := range want {
		accounts[e.Account] = true
	}
	if len(accounts) != 2 {
		t.Fatalf("the scenario's chain has events in %d accounts, want 2", len(accounts))
	}
	sw := trail.NewOrgSweep(tr.Account, f.opener(tr.Account, "OrganizationAccountAccessRole"),
		[]trail.Option{trail.WithLimiterRate(200, 10)}, trail.WithMaxInFlight(8))
	inv, err := sw.Run(context.Background(), tr.LeakedKey)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Coverage.Failed() {
		t.Fatalf("coverage failed: %s", inv.Coverage.Summary())
	}
	got := map[string]bool{}
	for _, e := range inv.Events {
		if got[e.EventID] {
			t.Errorf("event %s twice", e.EventID)
		}
		got[e.EventID] = true
		if _, ok := want[e.EventID]; !ok {
			t.Errorf("event %s %s of %s is not the chain's", e.EventName, e.EventID, e.UserIdentity.AccessKeyID)
		}
	}
	for id, e := range want {
		if !got[id] {
			t.Errorf("missed %s %s in %s/%s", e.EventName, id, e.Account, e.Region)
		}
	}
	member := ""
	for _, src := range inv.Coverage.Sources {
		if a, _, ok := strings.Cut(src.Name, "/"); ok && a != tr.Account {
			member = a
		}
	}
	if member != "862044175390" {
		t.Errorf("coverage has no sources of the member account: %+v", inv.Coverage.Sources)
	}
}

func TestOrgSweepSaysWhichRoleIsMissing(t *testing.T) {
	f := orgPivot(t)
	tr := f.sim.Truth()
	sw := trail.NewOrgSweep(tr.Account, f.opener(tr.Account, "NoSuchRole"),
		[]trail.Option{trail.WithLimiterRate(200, 10)})
	inv, err := sw.Run(context.Background(), tr.LeakedKey)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Coverage.Failed() {
		t.Fatal("coverage complete without access to the member account")
	}
	sum := inv.Coverage.Summary()
	if !strings.Contains(sum, "862044175390") || !strings.Contains(sum, "NoSuchRole") {
		t.Errorf("summary %q does not name the account and the role", sum)
	}
	// The home account's part is still complete.
	for _, e := range chainEvents(tr) {
		if e.Account != tr.Account {
			continue
		}
		found := false
		for _, g := range inv.Events {
			found = found || g.EventID == e.EventID
		}
		if !found {
			t.Errorf("missed home event %s", e.EventName)
		}
	}
}

func TestListOrganization(t *testing.T) {
	f := orgPivot(t)
	static := credentials.NewStaticCredentialsProvider(f.responder.AccessKeyID, f.responder.Secret, "")
	info, listErr, err := trail.ListOrganization(context.Background(), f.config(static, "eu-west-1"))
	if err != nil || listErr != nil {
		t.Fatal(err, listErr)
	}
	if info.ID != "o-f1nch7k2qd" || len(info.Accounts) != 2 || info.Accounts[1].ID != "862044175390" {
		t.Errorf("organization %+v", info)
	}
	_, _, err = trail.ListOrganization(context.Background(), f.config(credentials.NewStaticCredentialsProvider("AKIAUNKNOWN000000000", "x", ""), "us-east-1"))
	if err == nil {
		t.Error("an unknown key described the organization")
	}
	if !strings.Contains(err.Error(), "describe organization") {
		t.Errorf("error %v", err)
	}
}

// BenchmarkOrgSweep sweeps a simulated organization of
// KEYLEAK_BENCH_ORG_ACCOUNTS (default 50; the size is 1000)
// accounts of 17 regions at the real LookupEvents quota (2 requests a
// second per account and region): the leaked key, in the management
// account, assumes a role in each of the others, whose sessions leave a
// few events in a few regions and up to 250 in one. One member in ten has
// no role for the responder: the sweep must name those accounts together
// in one part of its summary, and find every event of the others. It
// reports the wall time over the floor, max over the reachable (account,
// region) pairs of the pages that pair needs at 2 a second ("x-floor"),
// and over the floor that also counts when each key can be known at the
// soonest ("x-chain-floor", see chainFloor),
// with at most 64 requests in flight, the requests made, and the heap the
// sweep adds to the simulator's (HeapInuse sampled every 10 ms, over what
// was in use before). Use -benchtime=1x.
func BenchmarkOrgSweep(b *testing.B) {
	const (
		rate     = 2
		inFlight = 64
	)
	accounts := 50
	if v := os.Getenv("KEYLEAK_BENCH_ORG_ACCOUNTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			b.Fatalf("KEYLEAK_BENCH_ORG_ACCOUNTS=%q is not a number of accounts", v)
		}
		accounts = n
	}
	base, start := time.Now().UTC().Truncate(time.Second), time.Now()
	s := awssim.New(awssim.WithClock(func() time.Time { return base.Add(time.Since(start)) }), awssim.WithSeed(9),
		awssim.WithLookupRate(rate, 2))
	created := base.Add(-400 * 24 * time.Hour)
	for _, u := range []string{"deployer", "responder"} {
		if err := s.AddUser(u, created, "AdministratorAccess"); err != nil {
			b.Fatal(err)
		}
	}
	leaked, err := s.AddAccessKey("deployer", created, "attacker")
	if err != nil {
		b.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "")
	if err != nil {
		b.Fatal(err)
	}
	s.SetLeakedKey(leaked.AccessKeyID)
	home := s.AccountID()
	regions := []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
		"ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"}
	// A second a call, all in the past: about 140 calls an account.
	at := base.Add(-time.Duration(accounts*150)*time.Second - time.Hour)
	do := func(c *awssim.Call) *awssim.Result {
		c.Time, c.Actor = at, "attacker"
		at = at.Add(time.Second)
		res, err := s.Do(c)
		if err != nil {
			b.Fatalf("%s %s: %v", c.Service, c.Action, err)
		}
		return res
	}
	noRole := map[string]bool{}
	for i := 1; i < accounts; i++ {
		id := fmt.Sprintf("3%011d", i)
		if err := s.AddAccount(id, fmt.Sprintf("member-%04d", i)); err != nil {
			b.Fatal(err)
		}
		err := s.InAccount(id, func() error {
			trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + home + `:root"},"Action":"sts:AssumeRole"}]}`
			if i%10 == 5 {
				noRole[id] = true
			} else if err := s.AddRole("OrganizationAccountAccessRole", trust, created, "AdministratorAccess"); err != nil {
				return err
			}
			return s.AddRole("deploy", trust, created, "PowerUserAccess")
		})
		if err != nil {
			b.Fatal(err)
		}
		res := do(&awssim.Call{Service: "sts", Action: "AssumeRole", Region: "us-east-1", AccessKeyID: leaked.AccessKeyID,
			Params: map[string]string{"RoleArn": "arn:aws:iam::" + id + ":role/deploy", "RoleSessionName": "pivot"}})
		session := res.Derived[0].AccessKeyID
		for j := range 3 {
			do(&awssim.Call{Service: "ec2", Action: "DescribeRegions", Region: regions[(i+j*5)%len(regions)], AccessKeyID: session})
		}
		dense := regions[i%len(regions)]
		for range 10 + (i%5)*60 {
			do(&awssim.Call{Service: "ec2", Action: "DescribeInstances", Region: dense, AccessKeyID: session})
		}
	}
	if err := s.SetOrganization("o-benchorg001", home); err != nil {
		b.Fatal(err)
	}
	f := startOrg(b, s, *resp)
	tr := s.Truth()
	want := chainEvents(tr)
	for id, e := range want {
		if noRole[e.Account] {
			delete(want, id) // out of reach: the account is named instead
		}
	}
	// pages each (account, region) pair needs: one per key looked up there
	// at least, and one per 50 of its events.
	keyAccount := map[string]string{tr.LeakedKey: home}
	for _, k := range tr.DerivedKeys {
		keyAccount[k.AccessKeyID] = k.Account
	}
	perKeyPair := map[[3]string]int{}
	for _, e := range want {
		perKeyPair[[3]string{e.AccessKeyID, e.Account, e.Region}]++
	}
	pages := map[[2]string]int{}
	for key, acct := range keyAccount {
		if noRole[acct] {
			continue
		}
		for _, r := range regions {
			n := perKeyPair[[3]string{key, acct, r}]
			pages[[2]string{acct, r}] += max(1, (n+49)/50)
		}
	}
	maxPages := 0
	for _, p := range pages {
		maxPages = max(maxPages, p)
	}
	floor := time.Duration(maxPages) * time.Second / rate
	chain := chainFloor(tr, want, noRole, regions, rate)
	var ratio, chainRatio float64
	var requests int
	var peak, before uint64
	for b.Loop() {
		runtime.GC()
		// The simulator's accounts and trails live in this process: the
		// sweep's own memory is the peak over what is in use before it.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before = ms.HeapInuse
		stop := make(chan struct{})
		peakc := memsample.PeakHeapInuse(stop)
		begin := time.Now()
		sw := trail.NewOrgSweep(home, f.opener(home, "OrganizationAccountAccessRole"),
			[]trail.Option{trail.WithLimiterRate(rate, 1)}, trail.WithMaxInFlight(inFlight))
		inv, err := sw.Run(context.Background(), leaked.AccessKeyID)
		el := time.Since(begin)
		close(stop)
		peak = <-peakc
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Events) != len(want) {
			b.Fatalf("found %d events, want %d; %s", len(inv.Events), len(want), inv.Coverage.Summary())
		}
		failed := 0
		for _, src := range inv.Coverage.Sources {
			if src.Failed() {
				failed++
				if !noRole[src.Name] {
					b.Fatalf("source %s failed: %s", src.Name, src.Err)
				}
			}
		}
		sum := inv.Coverage.Summary()
		if failed != len(noRole) || (len(noRole) > 1 && strings.Count(sum, ";") != 0) {
			b.Fatalf("%d failed sources for %d accounts without the role; summary %q", failed, len(noRole), sum)
		}
		for id := range noRole {
			if !strings.Contains(sum, id) {
				b.Fatalf("summary does not name account %s: %q", id, sum)
			}
		}
		requests = 0
		for _, src := range inv.Coverage.Sources {
			requests += src.Pages + src.Retries
		}
		ratio = float64(el) / float64(floor)
		chainRatio = float64(el) / float64(chain)
	}
	b.ReportMetric(ratio, "x-floor")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(chainRatio, "x-chain-floor")
	b.ReportMetric(chain.Seconds(), "chain-floor-s")
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(len(want)), "events")
	b.ReportMetric(inFlight, "max-in-flight")
	b.ReportMetric(float64(accounts), "accounts")
	b.ReportMetric(float64(len(noRole)), "accounts-without-role")
	b.ReportMetric(float64(peak-min(peak, before))/(1<<20), "sweep-heap-MB")
	b.ReportMetric(float64(before)/(1<<20), "sim-heap-MB")
}

// chainFloor is the soonest any sweep that learns each key from the events
// of the key that made it can finish, at rate pages a second per (account,
// region) pair: a key is known once the page holding the event that made it
// is read (newest first, 50 a page; that page is read at its index over
// rate after its own key is known), and a pair ends its pages over rate
// after the last of its keys is known. The sessions of the members are
// made by the leaked key's AssumeRole calls, which take 20 pages in the
// management account: the last members are known only at the end of those.
func chainFloor(tr awssim.Truth, want map[string]awssim.TruthEvent, noRole map[string]bool, regions []string, rate int) time.Duration {
	const perPage = 50
	byPair := map[[3]string][]awssim.TruthEvent{} // key, account, region
	for _, e := range want {
		p := [3]string{e.AccessKeyID, e.Account, e.Region}
		byPair[p] = append(byPair[p], e)
	}
	pageOf := map[string]int{} // event ID: the index of its page in its pair
	for _, evs := range byPair {
		sort.Slice(evs, func(i, j int) bool { return evs[i].EventTime.After(evs[j].EventTime) })
		for i, e := range evs {
			pageOf[e.EventID] = i / perPage
		}
	}
	page := time.Second / time.Duration(rate)
	known := map[string]time.Duration{tr.LeakedKey: 0}
	account := map[string]string{tr.LeakedKey: tr.Account}
	// Parents come before the keys they made in DerivedKeys' order of
	// creation; loop until nothing changes to not depend on it.
	for changed := true; changed; {
		changed = false
		for _, k := range tr.DerivedKeys {
			at, ok := known[k.Parent]
			if _, done := known[k.AccessKeyID]; !ok || done {
				continue
			}
			known[k.AccessKeyID] = at + time.Duration(pageOf[k.EventID])*page
			account[k.AccessKeyID] = k.Account
			changed = true
		}
	}
	type pair struct{ account, region string }
	pages, ready := map[pair]int{}, map[pair]time.Duration{}
	for key, at := range known {
		if noRole[account[key]] {
			continue
		}
		for _, r := range regions {
			p := pair{account[key], r}
			n := len(byPair[[3]string{key, account[key], r}])
			pages[p] += max(1, (n+perPage-1)/perPage)
			ready[p] = max(ready[p], at)
		}
	}
	var floor time.Duration
	for p, n := range pages {
		floor = max(floor, ready[p]+time.Duration(n)*page)
	}
	return floor
}
