package awssim

import (
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// ecgFixture is a running simulator with one user key for the tests of the
// EC2, Lambda and GuardDuty APIs.
type ecgFixture struct {
	sim *Sim
	srv *Server
	key Credential
}

func newECGFixture(t *testing.T, opts ...Option) *ecgFixture {
	t.Helper()
	s := New(append([]Option{WithSeed(7)}, opts...)...)
	created := time.Now().Add(-30 * 24 * time.Hour)
	if err := s.AddUser("alice", created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	key, err := s.AddAccessKey("alice", created, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return &ecgFixture{sim: s, srv: srv, key: *key}
}

func (f *ecgFixture) ec2(region string) *ec2.Client {
	return ec2.NewFromConfig(f.srv.Config(f.key, region))
}

// events returns the stored CloudTrail events of a region with a name.
func (f *ecgFixture) events(region, name string) []*storedEvent {
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	var out []*storedEvent
	for _, e := range f.sim.acct.regions[region].Trail.events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// findRecord returns the first record of a name in a region that match
// accepts, decoded, and its event. Events of one second are in no particular
// order, so tests pick records by content, not by position.
func (f *ecgFixture) findRecord(t *testing.T, region, name string, match func(rec map[string]any) bool) (map[string]any, *storedEvent) {
	t.Helper()
	for _, e := range f.events(region, name) {
		var rec map[string]any
		if err := json.Unmarshal(e.Raw, &rec); err != nil {
			t.Fatal(err)
		}
		if match(rec) {
			return rec, e
		}
	}
	t.Fatalf("no matching %s event in %s", name, region)
	return nil, nil
}

// ecgOK matches records of calls without error.
func ecgOK(rec map[string]any) bool { return rec["errorCode"] == nil }

// ecgCode returns the AWS error code of an SDK error, "" for nil or others.
func ecgCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func ecgWant(t *testing.T, err error, code string) {
	t.Helper()
	if got := ecgCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// ecgDig walks a decoded JSON document along keys and list indexes.
func ecgDig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func ecgHasResource(e *storedEvent, typ, name string) bool {
	return slices.Contains(e.Resources, EventResource{Type: typ, Name: name})
}

func TestEC2DescribeRegions(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	c := f.ec2("us-east-1")

	out, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Regions) != 17 {
		t.Errorf("enabled regions = %d, want 17", len(out.Regions))
	}
	for _, r := range out.Regions {
		if aws.ToString(r.OptInStatus) != "opt-in-not-required" {
			t.Errorf("region %s: opt-in status %q among enabled regions", aws.ToString(r.RegionName), aws.ToString(r.OptInStatus))
		}
		if want := "ec2." + aws.ToString(r.RegionName) + ".amazonaws.com"; aws.ToString(r.Endpoint) != want {
			t.Errorf("endpoint = %q, want %q", aws.ToString(r.Endpoint), want)
		}
	}

	all, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Regions) != len(defaultRegions()) {
		t.Fatalf("all regions = %d, want %d", len(all.Regions), len(defaultRegions()))
	}
	status := map[string]string{}
	for _, r := range all.Regions {
		status[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
	}
	if status["af-south-1"] != "not-opted-in" || status["me-south-1"] != "not-opted-in" || status["eu-west-1"] != "opt-in-not-required" {
		t.Errorf("opt-in status: %v", status)
	}

	optIn, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true),
		Filters: []types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(optIn.Regions) != len(defaultRegions())-17 {
		t.Errorf("not-opted-in regions = %d, want %d", len(optIn.Regions), len(defaultRegions())-17)
	}

	named, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "af-south-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(named.Regions) != 1 || aws.ToString(named.Regions[0].RegionName) != "eu-west-1" {
		t.Errorf("named regions without AllRegions = %+v, want only eu-west-1", named.Regions)
	}
	named, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "af-south-1"}, AllRegions: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(named.Regions) != 2 {
		t.Errorf("named regions with AllRegions = %d, want 2", len(named.Regions))
	}

	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"xx-nowhere-1"}})
	ecgWant(t, err, "InvalidParameterValue")
	_, err = c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	ecgWant(t, err, "InvalidParameterValue")

	// Calls in a region that is not opted in never get as far as EC2.
	_, err = f.ec2("af-south-1").DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err == nil {
		t.Error("DescribeRegions in a not-opted-in region ecgOK")
	}

	rec, _ := f.findRecord(t, "us-east-1", "DescribeRegions", func(rec map[string]any) bool {
		return ecgDig(rec, "requestParameters", "allRegions") == true
	})
	if rec["readOnly"] != true {
		t.Errorf("DescribeRegions record is not read-only: %v", rec)
	}
}

// TestEC2DescribeRegionsAWSCLI lists the regions with the AWS CLI, the way a
// responder does by hand, to prove the XML parses outside the Go SDK too.
func TestEC2DescribeRegionsAWSCLI(t *testing.T) {
	awsclitest.Need(t)
	f := newECGFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := awsclitest.Output(ctx, []string{
		"AWS_ACCESS_KEY_ID=" + f.key.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + f.key.Secret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true"},
		"ec2", "describe-regions", "--all-regions",
		"--endpoint-url", f.srv.URL, "--region", "us-east-1", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Regions []struct{ RegionName, Endpoint, OptInStatus string }
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse CLI output: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range res.Regions {
		got[r.RegionName] = r.OptInStatus
	}
	for _, r := range defaultRegions() {
		if got[r.Name] != r.OptInStatus {
			t.Errorf("region %s: CLI says %q, want %q", r.Name, got[r.Name], r.OptInStatus)
		}
	}
	if len(res.Regions) != len(defaultRegions()) {
		t.Errorf("CLI listed %d regions, want %d", len(res.Regions), len(defaultRegions()))
	}
}

func TestEC2DefaultSecurityGroup(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	c := f.ec2("eu-west-1")
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupName) != "default" {
		t.Fatalf("groups of a fresh region = %+v, want the default group", out.SecurityGroups)
	}
	def := out.SecurityGroups[0]
	if !strings.HasPrefix(aws.ToString(def.GroupId), "sg-0") || !strings.HasPrefix(aws.ToString(def.VpcId), "vpc-0") ||
		aws.ToString(def.OwnerId) != f.sim.AccountID() {
		t.Errorf("default group = %+v", def)
	}
	if len(def.IpPermissionsEgress) != 1 || aws.ToString(def.IpPermissionsEgress[0].IpProtocol) != "-1" {
		t.Errorf("default egress = %+v, want all traffic", def.IpPermissionsEgress)
	}
	// Each region has its own default group.
	other, err := f.ec2("us-west-2").DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.SecurityGroups) != 1 || aws.ToString(other.SecurityGroups[0].GroupId) == aws.ToString(def.GroupId) {
		t.Errorf("us-west-2 default group = %+v, want one of its own", other.SecurityGroups)
	}

	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: def.GroupId})
	ecgWant(t, err, "CannotDelete")
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("default"), Description: aws.String("x")})
	ecgWant(t, err, "InvalidGroup.Reserved")
	for _, r := range f.sim.Truth().Resources {
		if r.Type == "AWS::EC2::SecurityGroup" {
			t.Errorf("truth lists set-up group %+v as made by a key", r)
		}
	}
}

func TestEC2InstancesLifecycle(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	region := "eu-central-1"
	c := f.ec2(region)

	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("miner"), PublicKeyMaterial: ecgEd25519Line(t, 1)}); err != nil {
		t.Fatal(err)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("open"), Description: aws.String("open to all")})
	if err != nil {
		t.Fatal(err)
	}

	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abc"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("nope")})
	ecgWant(t, err, "InvalidKeyPair.NotFound")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abc"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{"sg-0123456789abcdef0"}})
	ecgWant(t, err, "InvalidGroup.NotFound")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abc"), MinCount: aws.Int32(21), MaxCount: aws.Int32(30)})
	ecgWant(t, err, "InstanceLimitExceeded")
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abc"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
	ecgWant(t, err, "DryRunOperation")

	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0abc"), InstanceType: types.InstanceTypeC5Xlarge,
		MinCount: aws.Int32(2), MaxCount: aws.Int32(2), KeyName: aws.String("miner"), SecurityGroupIds: []string{aws.ToString(sg.GroupId)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != 2 || !strings.HasPrefix(aws.ToString(run.ReservationId), "r-0") || aws.ToString(run.OwnerId) != f.sim.AccountID() {
		t.Fatalf("RunInstances = %+v", run)
	}
	var ids []string
	for _, i := range run.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
		if i.State.Name != types.InstanceStateNamePending || aws.ToInt32(i.State.Code) != 0 || i.InstanceType != types.InstanceTypeC5Xlarge ||
			aws.ToString(i.KeyName) != "miner" || len(i.SecurityGroups) != 1 || aws.ToString(i.SecurityGroups[0].GroupName) != "open" {
			t.Errorf("launched instance = %+v", i)
		}
		if len(aws.ToString(i.InstanceId)) != len("i-")+17 {
			t.Errorf("instance ID %q is not i- and 17 hex digits", aws.ToString(i.InstanceId))
		}
	}
	def, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0def"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if def.Instances[0].InstanceType != types.InstanceTypeT2Micro || aws.ToString(def.Instances[0].SecurityGroups[0].GroupName) != "default" {
		t.Errorf("instance without type or group = %+v", def.Instances[0])
	}

	desc, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Reservations) != 1 || aws.ToString(desc.Reservations[0].ReservationId) != aws.ToString(run.ReservationId) ||
		len(desc.Reservations[0].Instances) != 2 {
		t.Fatalf("DescribeInstances = %+v, want the one reservation of 2", desc.Reservations)
	}
	for _, i := range desc.Reservations[0].Instances {
		if i.State.Name != types.InstanceStateNameRunning || aws.ToInt32(i.State.Code) != 16 {
			t.Errorf("instance %s state = %+v, want running", aws.ToString(i.InstanceId), i.State)
		}
	}

	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	ecgWant(t, err, "DependencyViolation")

	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range term.TerminatingInstances {
		if ch.PreviousState.Name != types.InstanceStateNameRunning || ch.CurrentState.Name != types.InstanceStateNameShuttingDown {
			t.Errorf("state change = %+v -> %+v", ch.PreviousState, ch.CurrentState)
		}
	}
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	ecgWant(t, err, "InvalidInstanceID.NotFound")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"bogus"}})
	ecgWant(t, err, "InvalidInstanceID.Malformed")

	// Terminated instances stay listed, as in AWS, with state code 48.
	terminated, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"terminated"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range terminated.Reservations {
		for _, i := range r.Instances {
			got = append(got, aws.ToString(i.InstanceId))
			if aws.ToInt32(i.State.Code) != 48 {
				t.Errorf("terminated instance state = %+v", i.State)
			}
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("terminated instances = %v, want %v", got, ids)
	}
	running, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(running.Reservations) != 1 || aws.ToString(running.Reservations[0].Instances[0].InstanceId) != aws.ToString(def.Instances[0].InstanceId) {
		t.Errorf("running instances = %+v", running.Reservations)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId}); err != nil {
		t.Errorf("delete group after its instances terminated: %v", err)
	}

	// The records: RunInstances in the region, with what AWS logs.
	rec, ev := f.findRecord(t, region, "RunInstances", func(rec map[string]any) bool {
		return ecgDig(rec, "responseElements", "reservationId") == aws.ToString(run.ReservationId)
	})
	for _, id := range ids {
		if !ecgHasResource(ev, "AWS::EC2::Instance", id) {
			t.Errorf("RunInstances event lacks resource %s: %+v", id, ev.Resources)
		}
	}
	if ev.AccessKeyID != f.key.AccessKeyID || ev.Actor != "attacker" {
		t.Errorf("event key %s actor %s", ev.AccessKeyID, ev.Actor)
	}
	resp := rec["responseElements"]
	if ecgDig(resp, "ownerId") != f.sim.AccountID() ||
		ecgDig(resp, "instancesSet", "items", 0, "instanceState", "name") != "pending" ||
		ecgDig(resp, "instancesSet", "items", 1, "instanceId") != aws.ToString(run.Instances[1].InstanceId) ||
		ecgDig(resp, "instancesSet", "items", 0, "keyName") != "miner" ||
		ecgDig(rec, "requestParameters", "instancesSet", "items", 0, "imageId") != "ami-0abc" ||
		ecgDig(rec, "requestParameters", "instanceType") != "c5.xlarge" {
		t.Errorf("RunInstances record: %v / %v", rec["requestParameters"], resp)
	}
	rec, ev = f.findRecord(t, region, "TerminateInstances", ecgOK)
	if !ecgHasResource(ev, "AWS::EC2::Instance", ids[0]) || ecgDig(rec, "responseElements", "instancesSet", "items", 0, "currentState", "code") != 32.0 {
		t.Errorf("TerminateInstances record: %v", rec["responseElements"])
	}
	f.findRecord(t, region, "RunInstances", func(rec map[string]any) bool { return rec["errorCode"] == "Client.DryRunOperation" })
	if len(f.events("us-east-1", "RunInstances")) != 0 {
		t.Error("RunInstances of eu-central-1 recorded in us-east-1")
	}

	// Truth lists what the key made, with the current state.
	states := map[string]string{}
	for _, r := range f.sim.Truth().Resources {
		if r.Region == region {
			states[r.Type+" "+r.ID] = r.State
		}
	}
	if states["AWS::EC2::Instance "+ids[0]] != "terminated" || states["AWS::EC2::KeyPair miner"] != "present" {
		t.Errorf("truth resources = %v", states)
	}
}

func TestEC2DescribeInstancesPages(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	c := f.ec2("us-east-2")
	want := map[string]bool{}
	for range 12 {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-01"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		want[aws.ToString(out.Instances[0].InstanceId)] = true
	}
	pages := 0
	seen := map[string]bool{}
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				if seen[id] {
					t.Errorf("instance %s on two pages", id)
				}
				seen[id] = true
			}
		}
	}
	if pages != 3 || len(seen) != len(want) {
		t.Errorf("%d pages, %d instances; want 3 pages, %d instances", pages, len(seen), len(want))
	}
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
	ecgWant(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{"i-0123456789abcdef0"}})
	ecgWant(t, err, "InvalidParameterCombination")
}

// ecgEd25519Line returns an OpenSSH public key line of a fixed test key.
func ecgEd25519Line(t *testing.T, seed byte) []byte {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(slices.Repeat([]byte{seed}, ed25519.SeedSize))
	return []byte("ssh-ed25519 " + base64.StdEncoding.EncodeToString(ecgSSHBlob("ssh-ed25519", priv.Public().(ed25519.PublicKey))) + " test")
}

// ecgSSHBlob builds an SSH public key blob from its strings.
func ecgSSHBlob(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		var raw []byte
		switch v := p.(type) {
		case string:
			raw = []byte(v)
		case []byte:
			raw = v
		case ed25519.PublicKey:
			raw = v
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
		b = append(b, raw...)
	}
	return b
}

func TestEC2KeyPairs(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	region := "ap-northeast-1"
	c := f.ec2(region)

	created, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("backdoor")})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(aws.ToString(created.KeyMaterial)))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key material is not a PEM RSA key: %q", aws.ToString(created.KeyMaterial))
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if priv.N.BitLen() != 2048 {
		t.Errorf("RSA key has %d bits, want 2048", priv.N.BitLen())
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(pkcs8)
	if aws.ToString(created.KeyFingerprint) != colonHex(sum[:]) {
		t.Errorf("fingerprint %s, want SHA-1 of the PKCS#8 key %s", aws.ToString(created.KeyFingerprint), colonHex(sum[:]))
	}
	if !strings.HasPrefix(aws.ToString(created.KeyPairId), "key-0") {
		t.Errorf("key pair ID %q", aws.ToString(created.KeyPairId))
	}
	_, err = c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("backdoor")})
	ecgWant(t, err, "InvalidKeyPair.Duplicate")

	ed, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ed"), KeyType: types.KeyTypeEd25519})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(ed.KeyMaterial), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Errorf("ed25519 key material = %q", aws.ToString(ed.KeyMaterial))
	}

	line := ecgEd25519Line(t, 3)
	imported, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("imported"), PublicKeyMaterial: line})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(strings.Fields(string(line))[1])
	edSum := sha256.Sum256(blob)
	if aws.ToString(imported.KeyFingerprint) != base64.StdEncoding.EncodeToString(edSum[:]) {
		t.Errorf("imported ed25519 fingerprint = %s", aws.ToString(imported.KeyFingerprint))
	}
	rsaLine := []byte("ssh-rsa " + base64.StdEncoding.EncodeToString(ecgSSHBlob("ssh-rsa", []byte{1, 0, 1}, priv.N.Bytes())))
	importedRSA, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("imported-rsa"), PublicKeyMaterial: rsaLine})
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: priv.N, E: 65537})
	md := md5.Sum(der)
	if aws.ToString(importedRSA.KeyFingerprint) != colonHex(md[:]) {
		t.Errorf("imported RSA fingerprint = %s, want %s", aws.ToString(importedRSA.KeyFingerprint), colonHex(md[:]))
	}
	_, err = c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("junk"), PublicKeyMaterial: []byte("not a key")})
	ecgWant(t, err, "InvalidKey.Format")

	desc, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, k := range desc.KeyPairs {
		kinds[aws.ToString(k.KeyName)] = string(k.KeyType)
	}
	if len(kinds) != 4 || kinds["backdoor"] != "rsa" || kinds["ed"] != "ed25519" || kinds["imported"] != "ed25519" || kinds["imported-rsa"] != "rsa" {
		t.Errorf("key pairs = %v", kinds)
	}
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"missing"}})
	ecgWant(t, err, "InvalidKeyPair.NotFound")

	// The private key never reaches CloudTrail.
	for _, e := range f.events(region, "CreateKeyPair") {
		if raw := string(e.Raw); strings.Contains(raw, "PRIVATE KEY") || strings.Contains(raw, "keyMaterial") {
			t.Errorf("CreateKeyPair record holds key material: %s", raw)
		}
	}
	rec, ev := f.findRecord(t, region, "CreateKeyPair", func(rec map[string]any) bool {
		return ecgDig(rec, "requestParameters", "keyName") == "ed"
	})
	if ecgDig(rec, "responseElements", "keyPairId") != aws.ToString(ed.KeyPairId) || !ecgHasResource(ev, "AWS::EC2::KeyPair", "ed") {
		t.Errorf("CreateKeyPair record: %v %+v", rec["responseElements"], ev.Resources)
	}

	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("backdoor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: ed.KeyPairId}); err != nil {
		t.Fatal(err)
	}
	// Deleting what is gone succeeds, as in AWS.
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("backdoor")}); err != nil {
		t.Errorf("second delete: %v", err)
	}
	left, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.KeyPairs) != 2 {
		t.Errorf("%d key pairs left, want 2", len(left.KeyPairs))
	}
}

// TestEC2KeyPairsAreReproducible checks that a seeded simulator makes the
// same key pair every run, so seeded scenarios record the same fingerprints.
func TestEC2KeyPairsAreReproducible(t *testing.T) {
	var fps []string
	for range 2 {
		s := New(WithSeed(42))
		s.mu.Lock()
		_, fp, err := s.newRSAKeyPair()
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		fps = append(fps, fp)
	}
	if fps[0] != fps[1] {
		t.Errorf("fingerprints differ with the same seed: %v", fps)
	}
}

func TestEC2SecurityGroupRules(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	region := "sa-east-1"
	c := f.ec2(region)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh"), Description: aws.String("ssh from anywhere")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh"), Description: aws.String("again")})
	ecgWant(t, err, "InvalidGroup.Duplicate")

	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
				IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}, {CidrIp: aws.String("192.168.0.0/16")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 3 {
		t.Errorf("Authorize = %+v", auth)
	}
	// The legacy form names one rule with top-level parameters, by group name.
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupName: aws.String("ssh"), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), CidrIp: aws.String("203.0.113.0/24"),
	}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0"),
	})
	ecgWant(t, err, "InvalidPermission.Duplicate")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String("sg-0123456789abcdef0"), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0"),
	})
	ecgWant(t, err, "InvalidGroup.NotFound")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.300/0"),
	})
	ecgWant(t, err, "InvalidParameterValue")

	open, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("ip-permission.cidr"), Values: []string{"0.0.0.0/0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.SecurityGroups) != 1 || aws.ToString(open.SecurityGroups[0].GroupId) != aws.ToString(sg.GroupId) {
		t.Fatalf("groups open to the world = %+v", open.SecurityGroups)
	}
	perms := open.SecurityGroups[0].IpPermissions
	if len(perms) != 3 || aws.ToInt32(perms[1].FromPort) != 443 || len(perms[1].IpRanges) != 2 {
		t.Errorf("ingress = %+v", perms)
	}

	rev, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: sg.GroupId,
		IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(rev.Return) || len(rev.UnknownIpPermissions) != 1 || aws.ToString(rev.UnknownIpPermissions[0].IpProtocol) != "udp" ||
		len(rev.RevokedSecurityGroupRules) != 1 {
		t.Errorf("Revoke = %+v", rev)
	}
	after, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(sg.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range after.SecurityGroups[0].IpPermissions {
		if aws.ToInt32(p.FromPort) == 22 {
			t.Errorf("revoked rule still there: %+v", p)
		}
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
	ecgWant(t, err, "InvalidGroup.NotFound")

	rec, ev := f.findRecord(t, region, "CreateSecurityGroup", ecgOK)
	if ecgDig(rec, "responseElements", "_return") != true || ecgDig(rec, "responseElements", "groupId") != aws.ToString(sg.GroupId) ||
		ecgDig(rec, "requestParameters", "groupName") != "ssh" || !ecgHasResource(ev, "AWS::EC2::SecurityGroup", aws.ToString(sg.GroupId)) {
		t.Errorf("CreateSecurityGroup record: %v %v %+v", rec["requestParameters"], rec["responseElements"], ev.Resources)
	}
	rec, ev = f.findRecord(t, region, "AuthorizeSecurityGroupIngress", func(rec map[string]any) bool {
		return ecgOK(rec) && ecgDig(rec, "requestParameters", "ipPermissions", "items", 1) != nil
	})
	if ecgDig(rec, "requestParameters", "groupId") != aws.ToString(sg.GroupId) ||
		ecgDig(rec, "requestParameters", "ipPermissions", "items", 0, "ipRanges", "items", 0, "cidrIp") != "0.0.0.0/0" ||
		ecgDig(rec, "requestParameters", "ipPermissions", "items", 1, "fromPort") != 443.0 ||
		!ecgHasResource(ev, "AWS::EC2::SecurityGroup", aws.ToString(sg.GroupId)) {
		t.Errorf("AuthorizeSecurityGroupIngress record: %v", rec["requestParameters"])
	}

	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("ssh")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	ecgWant(t, err, "InvalidGroup.NotFound")
}
