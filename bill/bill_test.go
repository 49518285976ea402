package bill_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/keyleak/keyleak/bill"
	"github.com/keyleak/keyleak/internal/awssim"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// simClock is a settable clock for the simulator.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestTablePrice(t *testing.T) {
	for typ, want := range map[string]float64{
		"c5.large": 0.085, "c5.4xlarge": 0.68, "c5.24xlarge": 4.08, "c6i.32xlarge": 5.44, "m5.xlarge": 0.192,
		"r5.2xlarge": 0.504, "p3.16xlarge": 24.48, "g4dn.xlarge": 0.526, "x1.32xlarge": 13.338, "t3.micro": 0.0104,
	} {
		if got, ok := bill.TablePrice(typ); !ok || !near(got, want) {
			t.Errorf("TablePrice(%s) = %v, %v; want %v", typ, got, ok, want)
		}
	}
	for _, typ := range []string{"c5", "zz9.large", "c5.1000xlarge", "c5.huge"} {
		if _, ok := bill.TablePrice(typ); ok {
			t.Errorf("TablePrice(%s) found a price", typ)
		}
	}
}

// TestBillAgainstSimulator prices instances through the simulator's Price
// List, reads its Cost Explorer, and falls back to the table when a policy
// denies pricing:GetProducts (and says so); Cost Explorer denied is said
// too.
func TestBillAgainstSimulator(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	clock := &simClock{t: start}
	s := awssim.New(awssim.WithClock(clock.now))
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, u := range []string{"ci", "responder"} {
		if err := s.AddUser(u, start.AddDate(0, 0, -100), "AdministratorAccess"); err != nil {
			t.Fatal(err)
		}
	}
	atk, err := s.AddAccessKey("ci", start.AddDate(0, 0, -100), "attacker")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", start.AddDate(0, 0, -100), "responder")
	if err != nil {
		t.Fatal(err)
	}
	// The attacker runs two c5.4xlarge in eu-west-1 and one in
	// ap-southeast-1; three hours later one in eu-west-1 is terminated,
	// two hours after that the bill is made.
	var ids []string
	for _, region := range []string{"eu-west-1", "ap-southeast-1"} {
		n := int32(2)
		if region == "ap-southeast-1" {
			n = 1
		}
		out, err := ec2.NewFromConfig(srv.Config(*atk, region)).RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: "c5.4xlarge", MinCount: aws.Int32(n), MaxCount: aws.Int32(n)})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	clock.set(start.Add(3 * time.Hour))
	if _, err := ec2.NewFromConfig(srv.Config(*atk, "eu-west-1")).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	now := start.Add(5 * time.Hour)
	clock.set(now)
	items := []bill.Item{
		{Type: "AWS::EC2::Instance", ID: ids[0], Region: "eu-west-1", InstanceType: "c5.4xlarge", Start: start, End: start.Add(3 * time.Hour)},
		{Type: "AWS::EC2::Instance", ID: ids[1], Region: "eu-west-1", InstanceType: "c5.4xlarge", Start: start, Present: true},
		{Type: "AWS::EC2::Instance", ID: ids[2], Region: "ap-southeast-1", InstanceType: "c5.4xlarge", Start: start, Present: true},
		{Type: "AWS::EC2::Instance", ID: "i-0unknown", Region: "eu-west-1", InstanceType: "zz9.mega", Start: start, Present: true},
	}
	cfg := srv.Config(*resp, "us-east-1")
	opts := bill.Options{Pricing: pricing.NewFromConfig(cfg), Cost: costexplorer.NewFromConfig(cfg), Since: start}
	b, err := bill.Compute(ctx, items, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The simulator's Price List: c5.4xlarge is 8 × c5.large, 0.096/h in
	// eu-west-1 and 0.098/h in ap-southeast-1.
	if b.PriceSource != bill.SourcePriceList || b.PricingError != "" {
		t.Fatalf("price source %q (%s), want the Price List", b.PriceSource, b.PricingError)
	}
	if !near(b.PresentHourlyUSD, 0.768+0.784) || b.PresentCount != 3 || !near(b.PresentCostUSD, 5*(0.768+0.784)) {
		t.Errorf("present: %d at %v/h, %v so far; want 3 at 1.552/h, 7.76", b.PresentCount, b.PresentHourlyUSD, b.PresentCostUSD)
	}
	if !near(b.RemovedCostUSD, 3*0.768) || b.RemovedCount != 1 {
		t.Errorf("removed: %d cost %v, want 1 cost 2.304", b.RemovedCount, b.RemovedCostUSD)
	}
	if len(b.Unpriced) != 1 || b.Unpriced[0] != "zz9.mega" {
		t.Errorf("unpriced = %v", b.Unpriced)
	}
	// Cost Explorer: what the simulator's instances cost between start and
	// now, 3 h + 5 h in eu-west-1 and 5 h in ap-southeast-1.
	if b.Spend == nil || b.Spend.Error != "" {
		t.Fatalf("spend = %+v", b.Spend)
	}
	if !near(b.Spend.TotalUSD, 8*0.768+5*0.784) || b.Spend.Start != "2026-03-10" || b.Spend.End != "2026-03-11" || !b.Spend.Estimated {
		t.Errorf("spend = %+v, want 10.064 from 2026-03-10 to 2026-03-11, estimated", b.Spend)
	}
	if len(b.Spend.Lines) != 2 || b.Spend.Lines[0].Region != "eu-west-1" || !strings.Contains(b.Spend.Lines[0].Service, "Elastic Compute Cloud") {
		t.Errorf("spend lines = %+v", b.Spend.Lines)
	}

	// A policy denies the Price List and Cost Explorer to the responder:
	// the table prices (us-east-1's), and the bill says why.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["pricing:GetProducts","ce:GetCostAndUsage"],"Resource":"*"}]}`
	if _, err := iam.NewFromConfig(cfg).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("responder"),
		PolicyName: aws.String("no-billing"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	b, err = bill.Compute(ctx, items, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.PriceSource != bill.SourceTable || !strings.Contains(b.PricingError, "pricing:GetProducts was denied") {
		t.Errorf("denied: source %q, error %q", b.PriceSource, b.PricingError)
	}
	if !near(b.PresentHourlyUSD, 2*0.68) || b.Lines[1].PriceRegion != bill.TableRegion {
		t.Errorf("denied: present %v/h (want the table's 1.36), price region %q", b.PresentHourlyUSD, b.Lines[1].PriceRegion)
	}
	if b.Spend == nil || !strings.Contains(b.Spend.Error, "ce:GetCostAndUsage was denied") || b.Spend.TotalUSD != 0 {
		t.Errorf("denied spend = %+v", b.Spend)
	}

	// A service control policy (the simulator's deny-service fault) denies
	// both to everyone: the same fallback.
	s.SetFaults(awssim.Faults{DenyServices: []string{"pricing", "ce"}})
	if _, err := iam.NewFromConfig(cfg).DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("responder"),
		PolicyName: aws.String("no-billing")}); err != nil {
		t.Fatal(err)
	}
	b, err = bill.Compute(ctx, items, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.PriceSource != bill.SourceTable || !strings.Contains(b.PricingError, "service control policy") ||
		b.Spend == nil || !strings.Contains(b.Spend.Error, "ce:GetCostAndUsage was denied") {
		t.Errorf("denied by the fault: source %q, error %q, spend %+v", b.PriceSource, b.PricingError, b.Spend)
	}

	// Offline: no client at all, the table and no spend.
	b, err = bill.Compute(ctx, items, now, bill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.PriceSource != bill.SourceTable || b.PricingError != "" || b.Spend != nil {
		t.Errorf("offline: %+v", b)
	}
}
