package bill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/keyleak/keyleak/bill"
)

// costs answers GetCostAndUsage with one group per service and region.
type costs struct{ amounts []string }

func (c costs) GetCostAndUsage(context.Context, *costexplorer.GetCostAndUsageInput, ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error) {
	var groups []cetypes.Group
	for i, a := range c.amounts {
		groups = append(groups, cetypes.Group{
			Keys:    []string{fmt.Sprintf("Service %02d", i), "us-east-1"},
			Metrics: map[string]cetypes.MetricValue{"UnblendedCost": {Amount: aws.String(a), Unit: aws.String("USD")}},
		})
	}
	return &costexplorer.GetCostAndUsageOutput{ResultsByTime: []cetypes.ResultByTime{{Groups: groups}}}, nil
}

// TestSpendTotalIsTheSameEveryTime: floating-point addition depends on its
// order, so a total summed in Go's random map order came out 10.2709093642
// in one report and 10.270909364200001 in the next from the same bill. The
// total is the sum of the lines as listed, every time.
func TestSpendTotalIsTheSameEveryTime(t *testing.T) {
	api := costs{}
	for i := range 24 {
		api.amounts = append(api.amounts, fmt.Sprintf("0.%d%d%d7", i%10, (i*7)%10, (i*3)%10))
	}
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	var first float64
	for run := range 40 {
		b, err := bill.Compute(context.Background(), nil, now, bill.Options{Cost: api, Since: now.Add(-48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if b.Spend == nil || len(b.Spend.Lines) != len(api.amounts) {
			t.Fatalf("spend %+v, want %d lines", b.Spend, len(api.amounts))
		}
		var inOrder float64
		for _, l := range b.Spend.Lines {
			inOrder += l.AmountUSD
		}
		if b.Spend.TotalUSD != inOrder {
			t.Fatalf("run %d: total %v, the lines as listed sum to %v", run, b.Spend.TotalUSD, inOrder)
		}
		if run == 0 {
			first = b.Spend.TotalUSD
		} else if b.Spend.TotalUSD != first {
			t.Fatalf("run %d: total %v, first run %v", run, b.Spend.TotalUSD, first)
		}
	}
}
