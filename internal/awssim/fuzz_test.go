package awssim

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/examples/scenarios"
)

// Fuzz targets of the simulator's inputs: scenario files, fault
// specifications and the policy documents it evaluates. `go test` runs
// their seeds as tests; `make fuzz` fuzzes each for a while.

// FuzzParseScenario: any YAML is a checked scenario or one error, never a
// panic; seeded with the shipped scenarios.
func FuzzParseScenario(f *testing.F) {
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(scenarios.FS, n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\ntimeline:\n  - at: -1h\n    repeat: 3\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario("fuzz.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if sc == nil {
			t.Fatal("no scenario and no error")
		}
	})
}

// FuzzParseFaults: a fault specification parses to valid faults or an
// error; valid faults print as a specification that parses back to them.
func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "latency=100ms,throttle-storm=30,5xx-every=20,5xx-burst=3,deny=eu-west-1,disable=ap-south-1",
		" deny=eu-west-1, eu-west-2 ,disable=ap-south-1,disable=me-south-1", "throttle-storm=2m", "5xx-every=1", "latency=banana",
		"5xx-service=cloudtrail,5xx-every=5", "deny=", "=,=", "latency=-1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		fl, err := ParseFaults(spec)
		if err != nil {
			return
		}
		if err := fl.Validate(); err != nil {
			t.Fatalf("ParseFaults(%q) accepted invalid faults: %v", spec, err)
		}
		again, err := ParseFaults(fl.String())
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", spec, fl.String(), err)
		}
		if !reflect.DeepEqual(normFaults(fl), normFaults(again)) {
			t.Fatalf("%q: %+v prints as %q, which parses to %+v", spec, fl, fl.String(), again)
		}
	})
}

func normFaults(f Faults) Faults {
	f.state = nil
	if len(f.FailServices) == 0 {
		f.FailServices = nil
	}
	if len(f.DenyRegions) == 0 {
		f.DenyRegions = nil
	}
	if len(f.DisableRegions) == 0 {
		f.DisableRegions = nil
	}
	if f.FailEvery > 0 && f.FailBurst == 0 {
		f.FailBurst = 1
	}
	return f
}

// FuzzPolicyDenies: any policy document is evaluated without a panic, and
// a document that denies nothing readable denies nothing.
func FuzzPolicyDenies(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"KeyleakRevokeOlderSessions","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-02T15:04:05Z"}}}]}`, "iam:ListUsers")
	f.Add(denyDoc([]string{"cloudtrail:LookupEvents", "iam:UpdateAccessKey"}), "cloudtrail:LookupEvents")
	f.Add(allowDoc("ec2:*"), "ec2:RunInstances")
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":["iam:Get*"],"Resource":"*"}}`, "iam:GetUser")
	f.Add(`{"Statement":[{"Effect":"Deny","Action":"s3:*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`, "s3:GetObject")
	f.Add(`not json`, "iam:ListUsers")
	now := time.Date(2026, 1, 2, 16, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc, action string) {
		for _, ctx := range []condContext{{now: now}, {now: now, hasToken: true, tokenIssueTime: now.Add(-time.Hour)}} {
			denies := policyDenies(doc, action, ctx)
			if denies && !strings.Contains(strings.ToLower(doc), "deny") && !strings.Contains(doc, `\u`) {
				t.Fatalf("a document without a Deny denies %q", action)
			}
		}
	})
}
