package awssim

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"gopkg.in/yaml.v3"
)

func TestParseFaults(t *testing.T) {
	good := []struct {
		spec string
		want Faults
	}{
		{"", Faults{}},
		{"latency=100ms,throttle-storm=30,5xx-every=20,5xx-burst=3,deny=eu-west-1,disable=ap-south-1", Faults{
			Latency: 100 * time.Millisecond, ThrottleStorm: 30, FailEvery: 20, FailBurst: 3,
			DenyRegions: []string{"eu-west-1"}, DisableRegions: []string{"ap-south-1"}}},
		{"throttle-storm=45s", Faults{ThrottleStormFor: 45 * time.Second}},
		{"5xx-every=10,5xx-service=cloudtrail", Faults{FailEvery: 10, FailServices: []string{"cloudtrail"}}},
		{" deny=eu-west-1, eu-west-2 ,disable=ap-south-1,disable=me-south-1", Faults{
			DenyRegions: []string{"eu-west-1", "eu-west-2"}, DisableRegions: []string{"ap-south-1", "me-south-1"}}},
		{"deny-service=pricing,ce", Faults{DenyServices: []string{"pricing", "ce"}}},
	}
	for _, tc := range good {
		got, err := ParseFaults(tc.spec)
		if err != nil {
			t.Errorf("ParseFaults(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFaults(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
		back, err := ParseFaults(got.String())
		if err != nil || back.String() != got.String() {
			t.Errorf("String of %q does not parse back: %q, %v", tc.spec, got.String(), err)
		}
	}
	bad := []struct{ spec, mention string }{
		{"latency", "key=value"},
		{"speed=3", "unknown setting"},
		{"latency=fast", "latency=fast"},
		{"latency=-1s", "latency"},
		{"latency=2h", "latency"},
		{"latency=1s,latency=2s", "twice"},
		{"throttle-storm=-3", "throttle storm"},
		{"5xx-burst=3", "5xx-every"},
		{"5xx-every=1", "at least 2"},
		{"5xx-every=3,5xx-burst=3", "shorter"},
		{"5xx-every=10,5xx-service=s3", "unknown service"},
		{"deny=Europe", "not a region"},
		{"deny-service=billing", "unknown service"},
		{"deny=", "no value"},
		{",", "key=value"},
	}
	for _, tc := range bad {
		_, err := ParseFaults(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ParseFaults(%q) = %v, want an error mentioning %q", tc.spec, err, tc.mention)
		}
	}
}

func TestFaultsYAML(t *testing.T) {
	doc := `
faults:
  latency: 250ms
  throttleStorm: 12
  throttleStormFor: 1m
  failEvery: 20
  failBurst: 3
  failServices: [cloudtrail]
  denyRegions: [eu-west-1]
  disableRegions: [ap-south-1, sa-east-1]
`
	var sc struct {
		Faults Faults `yaml:"faults"`
	}
	if err := yaml.Unmarshal([]byte(doc), &sc); err != nil {
		t.Fatal(err)
	}
	want := Faults{Latency: 250 * time.Millisecond, ThrottleStorm: 12, ThrottleStormFor: time.Minute,
		FailEvery: 20, FailBurst: 3, FailServices: []string{"cloudtrail"},
		DenyRegions: []string{"eu-west-1"}, DisableRegions: []string{"ap-south-1", "sa-east-1"}}
	if !reflect.DeepEqual(sc.Faults, want) {
		t.Fatalf("got %+v, want %+v", sc.Faults, want)
	}
	if err := sc.Faults.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFaultLatency(t *testing.T) {
	f := newCTFixture(t, WithFaults(Faults{Latency: 3 * time.Millisecond}))
	if got := f.sim.faultLatency(); got != 3*time.Millisecond {
		t.Fatalf("latency %v, want 3ms", got)
	}
	if lookupOnce(t, f.client("us-east-1")) {
		t.Fatal("a call with added latency was throttled")
	}
	f.sim.SetFaults(Faults{})
	if got := f.sim.faultLatency(); got != 0 {
		t.Fatalf("latency %v after clearing the faults", got)
	}
}

func TestThrottleStorm(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		f := newCTFixture(t)
		f.sim.SetFaults(Faults{ThrottleStorm: 3})
		east, west := f.client("us-east-1"), f.client("eu-west-1")
		// One call every two seconds: the rate limit alone would pass all.
		var got []bool
		for i := range 6 {
			c := east
			if i%2 == 1 {
				c = west
			}
			got = append(got, lookupOnce(t, c))
			f.clk.advance(2 * time.Second)
		}
		if want := []bool{true, true, true, false, false, false}; !slices.Equal(got, want) {
			t.Fatalf("throttled %v, want %v", got, want)
		}
		if n := f.lookupRecords("us-east-1") + f.lookupRecords("eu-west-1"); n != 3 {
			t.Fatalf("%d lookups recorded, want the 3 answered", n)
		}
	})
	t.Run("window", func(t *testing.T) {
		f := newCTFixture(t)
		f.sim.SetFaults(Faults{ThrottleStormFor: 10 * time.Second})
		c := f.client("us-east-1")
		var got []bool
		for range 8 {
			got = append(got, lookupOnce(t, c))
			f.clk.advance(2 * time.Second)
		}
		// Calls at 0, 2, 4, 6, 8 s fall in the window that starts with the first.
		if want := []bool{true, true, true, true, true, false, false, false}; !slices.Equal(got, want) {
			t.Fatalf("throttled %v, want %v", got, want)
		}
	})
	t.Run("other calls pass", func(t *testing.T) {
		f := newCTFixture(t)
		f.sim.SetFaults(Faults{ThrottleStorm: 100})
		if err := f.sim.injectFault(&Call{Service: "cloudtrail", Action: "DescribeTrails", Region: "us-east-1"}); err != nil {
			t.Fatalf("DescribeTrails: %v", err)
		}
		if err := f.sim.injectFault(&Call{Service: "ec2", Action: "DescribeRegions", Region: "us-east-1"}); err != nil {
			t.Fatalf("DescribeRegions: %v", err)
		}
	})
}

func TestServerErrorBursts(t *testing.T) {
	f := newCTFixture(t)
	f.sim.SetFaults(Faults{FailEvery: 5, FailBurst: 2, FailServices: []string{"cloudtrail"}})
	c := f.client("us-east-1")
	var statuses []int
	for range 16 {
		_, err := c.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
		switch {
		case err == nil:
			statuses = append(statuses, 200)
		case httpStatus(err) >= 500:
			code := apiCode(err)
			if (httpStatus(err) == 500) != (code == "InternalFailure") || (httpStatus(err) == 503) != (code == "ServiceUnavailable") {
				t.Fatalf("status %d with code %s", httpStatus(err), code)
			}
			statuses = append(statuses, httpStatus(err))
		default:
			t.Fatalf("lookup: %v", err)
		}
		f.clk.advance(time.Second)
	}
	want := []int{200, 200, 200, 200, 500, 500, 200, 200, 200, 503, 503, 200, 200, 200, 500, 500}
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	// Only CloudTrail was named: other services are not counted or failed.
	for range 20 {
		if err := f.sim.injectFault(&Call{Service: "sts", Action: "GetCallerIdentity", Region: "us-east-1"}); err != nil {
			t.Fatalf("sts call failed: %v", err)
		}
	}
}

func TestServerErrorBurstsPerServiceUnderConcurrency(t *testing.T) {
	s := New()
	s.SetFaults(Faults{FailEvery: 10, FailBurst: 3})
	const perService = 200
	services := []string{"cloudtrail", "iam", "ec2"}
	var mu sync.Mutex
	failed := map[string]int{}
	var wg sync.WaitGroup
	for _, svc := range services {
		for range perService {
			wg.Go(func() {
				if err := s.injectFault(&Call{Service: svc, Action: "X", Region: "us-east-1"}); err != nil {
					if err.Status < 500 {
						t.Errorf("%s: %v", svc, err)
					}
					mu.Lock()
					failed[svc]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	// Requests 10, 11, 12, 20, 21, 22, …, 200 of each service fail.
	want := 0
	for n := 1; n <= perService; n++ {
		if n >= 10 && n%10 < 3 {
			want++
		}
	}
	for _, svc := range services {
		if failed[svc] != want {
			t.Errorf("%s: %d of %d requests failed, want %d", svc, failed[svc], perService, want)
		}
	}
}

func TestDeniedRegions(t *testing.T) {
	f := newCTFixture(t)
	f.sim.SetFaults(Faults{DenyRegions: []string{"eu-west-1"}})
	_, err := f.client("eu-west-1").LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
	if apiCode(err) != "AccessDeniedException" || httpStatus(err) != 403 {
		t.Fatalf("eu-west-1: %v, want AccessDeniedException", err)
	}
	if !strings.Contains(err.Error(), "user/responder") {
		t.Errorf("the message does not name the caller: %v", err)
	}
	if lookupOnce(t, f.client("us-east-1")) {
		t.Fatal("us-east-1 throttled")
	}
	if n := f.lookupRecords("eu-west-1"); n != 0 {
		t.Fatalf("%d denied lookups recorded", n)
	}
}

func TestDisabledRegions(t *testing.T) {
	f := newCTFixture(t)
	status := func(region string) string {
		f.sim.mu.Lock()
		defer f.sim.mu.Unlock()
		r, _ := f.sim.acct.regionInfo(region)
		return r.OptInStatus
	}
	f.sim.SetFaults(Faults{DisableRegions: []string{"ap-south-1", "no-such-1"}})
	if got := status("ap-south-1"); got != "not-opted-in" {
		t.Fatalf("ap-south-1 is %q", got)
	}
	_, err := f.client("ap-south-1").LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("lookup in a disabled region: %v", err)
	}
	if err := f.sim.AddVolume(500, f.app.AccessKeyID, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.sim.Truth().Events {
		if e.Region == "ap-south-1" {
			t.Fatal("volume went to a disabled region")
		}
	}
	f.sim.SetFaults(Faults{})
	if got := status("ap-south-1"); got != "opt-in-not-required" {
		t.Fatalf("ap-south-1 is %q after the faults were cleared", got)
	}
	if lookupOnce(t, f.client("ap-south-1")) {
		t.Fatal("ap-south-1 throttled after being enabled again")
	}
}

func TestFaultsFromNewApplyOnFirstRequest(t *testing.T) {
	f := newCTFixture(t, WithFaults(Faults{DisableRegions: []string{"eu-north-1"}, ThrottleStorm: 1}))
	if !lookupOnce(t, f.client("us-east-1")) {
		t.Fatal("the storm of WithFaults did not throttle")
	}
	_, err := f.client("eu-north-1").LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("lookup in the region WithFaults disabled: %v", err)
	}
}
