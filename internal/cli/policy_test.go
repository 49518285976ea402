package cli

import (
	"encoding/json"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/audit"
	"github.com/keyleak/keyleak/bill"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/rotate"
	"github.com/keyleak/keyleak/trail"
)

// requiredActions is every AWS action keyleak's code can call, taken from
// the packages that declare them, not from a hand-kept list: the playbook's
// declared calls, and the methods of the narrow interfaces the investigation
// calls AWS through.
func requiredActions() []string {
	out := playbook.RequiredActions()
	seams := []struct {
		service string
		iface   reflect.Type
	}{
		{"iam", reflect.TypeFor[playbook.IAM]()},
		{"ec2", reflect.TypeFor[trail.RegionsAPI]()},
		{"cloudtrail", reflect.TypeFor[cloudtrail.LookupEventsAPIClient]()},
		{"s3", reflect.TypeFor[trail.S3API]()},
		{"guardduty", reflect.TypeFor[assess.GuardDutyAPI]()},
		{"iam", reflect.TypeFor[rotate.IAM]()},
		{"secretsmanager", reflect.TypeFor[rotate.SecretsAPI]()},
		{"iam", reflect.TypeFor[audit.IAM]()},
		{"organizations", reflect.TypeFor[trail.OrganizationsAPI]()},
		{"sts", reflect.TypeFor[stscreds.AssumeRoleAPIClient]()},
		{"athena", reflect.TypeFor[trail.AthenaAPI]()},
		{"cloudtrail", reflect.TypeFor[trail.LakeAPI]()},
		{"pricing", reflect.TypeFor[bill.PricingAPI]()},
		{"ce", reflect.TypeFor[bill.CostAPI]()},
		{"support", reflect.TypeFor[respond.SupportAPI]()},
	}
	// The resource kinds' clients: each field of resource.Clients is one
	// service's interface (or a per-region factory of it).
	rc := reflect.TypeFor[resource.Clients]()
	for i := range rc.NumField() {
		f := rc.Field(i)
		iface := f.Type
		if iface.Kind() == reflect.Func {
			iface = iface.Out(0)
		}
		seams = append(seams, struct {
			service string
			iface   reflect.Type
		}{strings.ToLower(f.Name), iface})
	}
	// S3's API calls and IAM actions differ in name.
	s3Actions := map[string]string{"ListObjectsV2": "ListBucket", "GetObject": "GetObject", "HeadBucket": "ListBucket",
		"GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock", "GetBucketPolicyStatus": "GetBucketPolicyStatus"}
	for _, seam := range seams {
		for i := range seam.iface.NumMethod() {
			name := seam.iface.Method(i).Name
			if seam.service == "s3" {
				name = s3Actions[name]
			}
			out = append(out, seam.service+":"+name)
		}
	}
	return out
}

// The minimal responder policy allows every action the code can call.
func TestResponderPolicyCoversEveryAction(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../examples/policies/responder.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("responder.json is not a policy: %v", err)
	}
	var allowed []string
	for _, st := range doc.Statement {
		if st.Effect == "Allow" {
			allowed = append(allowed, st.Action...)
		}
	}
	for _, a := range allowed {
		if a == "*" || strings.HasSuffix(a, ":*") {
			t.Errorf("responder.json allows %s: the policy must stay minimal", a)
		}
	}
	for _, need := range requiredActions() {
		ok := false
		for _, a := range allowed {
			if m, _ := path.Match(strings.ToLower(a), strings.ToLower(need)); m {
				ok = true
			}
		}
		if !ok {
			t.Errorf("responder.json does not allow %s, which keyleak calls", need)
		}
	}
}

// Every action the policy allows is one the code calls: the policy stays
// minimal as the code changes.
func TestResponderPolicyAllowsNothingUnused(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../examples/policies/responder.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	need := map[string]bool{}
	for _, a := range requiredActions() {
		need[strings.ToLower(a)] = true
	}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if !need[strings.ToLower(a)] {
				t.Errorf("responder.json allows %s, which no code calls", a)
			}
		}
	}
}
