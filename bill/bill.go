// Package bill says what a leak costs: the running cost per hour of the
// attacker's instances still present, what those removed cost while they
// ran, and the account's actual spend since the leak.
//
// Prices come from the AWS Price List API (pricing:GetProducts, served in
// us-east-1); when it cannot be asked (offline, or the call is denied) an
// embedded table of public on-demand Linux prices in us-east-1 stands in,
// and the bill says so. The spend comes from Cost Explorer
// (ce:GetCostAndUsage) when the caller may read it. The package takes SDK
// clients through narrow interfaces and imports no other keyleak package.
package bill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	pricingtypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/smithy-go"
)

// PricingRegion is where the Price List API is asked.
const PricingRegion = "us-east-1"

// Sources of a price.
const (
	SourcePriceList = "price-list" // pricing:GetProducts answered
	SourceTable     = "table"      // keyleak's embedded us-east-1 table
	SourceNone      = ""           // neither knows the type
)

// PricingAPI is the Price List call the bill makes; *pricing.Client
// satisfies it.
type PricingAPI interface {
	GetProducts(ctx context.Context, params *pricing.GetProductsInput, optFns ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

// CostAPI is the Cost Explorer call the bill makes; *costexplorer.Client
// satisfies it.
type CostAPI interface {
	GetCostAndUsage(ctx context.Context, params *costexplorer.GetCostAndUsageInput, optFns ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error)
}

var (
	_ PricingAPI = (*pricing.Client)(nil)
	_ CostAPI    = (*costexplorer.Client)(nil)
)

// Item is one thing that costs by the hour: an instance, from its start
// until it was removed (End) or until now.
type Item struct {
	Type         string    `json:"type"` // AWS::EC2::Instance
	ID           string    `json:"id"`
	Region       string    `json:"region"`
	InstanceType string    `json:"instanceType"`
	Start        time.Time `json:"start"`
	// End is when it stopped costing: removed, or found gone. Zero while
	// it is present.
	End time.Time `json:"end,omitzero"`
	// EndUnknown is set for an item found gone without knowing when: it is
	// counted until the bill's time, an upper bound.
	EndUnknown bool `json:"endUnknown,omitempty"`
	Present    bool `json:"present"`
}

// Line is an item with its price and what it has cost.
type Line struct {
	Item
	HourlyUSD   float64 `json:"hourlyUSD"`
	PriceSource string  `json:"priceSource"`
	// PriceRegion is the region the price is for: the item's, or
	// us-east-1 for the table.
	PriceRegion string  `json:"priceRegion,omitempty"`
	Hours       float64 `json:"hours"`
	CostUSD     float64 `json:"costUSD"`
}

// Bill is what the leak costs, as of At.
type Bill struct {
	At    time.Time `json:"at"`
	Lines []Line    `json:"lines"`
	// PresentHourlyUSD is what the items still present cost per hour, and
	// PresentCount how many they are; PresentCostUSD what they have cost
	// since they started.
	PresentHourlyUSD float64 `json:"presentHourlyUSD"`
	PresentCount     int     `json:"presentCount"`
	PresentCostUSD   float64 `json:"presentCostUSD"`
	// RemovedCostUSD is what the items no longer present cost while they
	// ran, and RemovedHourlyUSD what they cost per hour then.
	RemovedCostUSD   float64 `json:"removedCostUSD"`
	RemovedHourlyUSD float64 `json:"removedHourlyUSD"`
	RemovedCount     int     `json:"removedCount"`
	// PriceSource is price-list, table, or mixed when some prices came
	// from each; PricingError says why the Price List was not used.
	PriceSource  string `json:"priceSource"`
	PricingError string `json:"pricingError,omitempty"`
	// Unpriced are instance types neither source knows: not counted.
	Unpriced []string `json:"unpriced,omitempty"`
	// Spend is the account's actual spend from Cost Explorer, nil when it
	// was not asked (offline).
	Spend *Spend `json:"spend,omitempty"`
}

// Spend is what Cost Explorer says the account spent, per service and
// region, over whole UTC days from the leak's to today's.
type Spend struct {
	Start    string      `json:"start"` // YYYY-MM-DD, inclusive
	End      string      `json:"end"`   // YYYY-MM-DD, exclusive
	TotalUSD float64     `json:"totalUSD"`
	Lines    []SpendLine `json:"lines"`
	// Estimated is set when Cost Explorer says some days are not final.
	Estimated bool `json:"estimated,omitempty"`
	// Error says why the spend could not be read (denied, not enabled).
	Error string `json:"error,omitempty"`
}

// SpendLine is one service in one region.
type SpendLine struct {
	Service   string  `json:"service"`
	Region    string  `json:"region"`
	AmountUSD float64 `json:"amountUSD"`
}

// Options are what the bill may ask AWS: nil clients are not asked (the
// table prices, and there is no spend).
type Options struct {
	Pricing PricingAPI
	Cost    CostAPI
	// Since is when the spend starts (the leak); zero asks for no spend.
	Since time.Time
}

// Compute prices the items and reads the spend, as of now. Errors of AWS
// become what the bill says (PricingError, Spend.Error): the bill is made
// whatever AWS answers, only a cancelled context stops it.
func Compute(ctx context.Context, items []Item, now time.Time, o Options) (*Bill, error) {
	b := &Bill{At: now.UTC(), Lines: []Line{}}
	type key struct{ typ, region string }
	prices := map[key]Line{}
	var listed, tabled int
	for _, it := range items {
		k := key{it.InstanceType, it.Region}
		l, seen := prices[k]
		if !seen {
			l = Line{}
			if o.Pricing != nil && b.PricingError == "" {
				p, err := priceListPrice(ctx, o.Pricing, it.InstanceType, it.Region)
				switch {
				case ctx.Err() != nil:
					return nil, ctx.Err()
				case err != nil:
					b.PricingError = err.Error()
				case p > 0:
					l.HourlyUSD, l.PriceSource, l.PriceRegion = p, SourcePriceList, it.Region
				}
			}
			if l.PriceSource == SourceNone {
				if p, ok := TablePrice(it.InstanceType); ok {
					l.HourlyUSD, l.PriceSource, l.PriceRegion = p, SourceTable, TableRegion
				}
			}
			prices[k] = l
		}
		l.Item = it
		end := it.End
		if it.Present || end.IsZero() {
			end = b.At
		}
		if end.After(it.Start) && !it.Start.IsZero() {
			l.Hours = end.Sub(it.Start).Hours()
		}
		l.CostUSD = l.Hours * l.HourlyUSD
		switch l.PriceSource {
		case SourcePriceList:
			listed++
		case SourceTable:
			tabled++
		default:
			if !contains(b.Unpriced, it.InstanceType) {
				b.Unpriced = append(b.Unpriced, it.InstanceType)
			}
		}
		if it.Present {
			b.PresentCount++
			b.PresentHourlyUSD += l.HourlyUSD
			b.PresentCostUSD += l.CostUSD
		} else {
			b.RemovedCount++
			b.RemovedHourlyUSD += l.HourlyUSD
			b.RemovedCostUSD += l.CostUSD
		}
		b.Lines = append(b.Lines, l)
	}
	switch {
	case listed > 0 && tabled > 0:
		b.PriceSource = "mixed"
	case listed > 0:
		b.PriceSource = SourcePriceList
	case tabled > 0:
		b.PriceSource = SourceTable
	}
	sort.Strings(b.Unpriced)
	if o.Cost != nil && !o.Since.IsZero() {
		s, err := spend(ctx, o.Cost, o.Since, b.At)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			s = &Spend{Start: day(o.Since), End: day(b.At.AddDate(0, 0, 1)), Lines: []SpendLine{}, Error: err.Error()}
		}
		b.Spend = s
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// denied tells whether AWS refused the call for want of permission.
func denied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException":
		return true
	}
	return false
}

// priceListPrice asks the Price List for the on-demand Linux price of an
// instance type in a region (shared tenancy, no pre-installed software);
// 0 when it lists no such product.
func priceListPrice(ctx context.Context, api PricingAPI, instanceType, region string) (float64, error) {
	filter := func(field, value string) pricingtypes.Filter {
		return pricingtypes.Filter{Type: pricingtypes.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
	}
	in := &pricing.GetProductsInput{
		ServiceCode:   aws.String("AmazonEC2"),
		FormatVersion: aws.String("aws_v1"),
		Filters: []pricingtypes.Filter{
			filter("instanceType", instanceType), filter("regionCode", region), filter("operatingSystem", "Linux"),
			filter("tenancy", "Shared"), filter("preInstalledSw", "NA"), filter("capacitystatus", "Used"),
		},
		MaxResults: aws.Int32(10),
	}
	out, err := api.GetProducts(ctx, in, func(o *pricing.Options) { o.Region = PricingRegion })
	if err != nil {
		if denied(err) {
			return 0, fmt.Errorf("pricing:GetProducts was denied: %w", err)
		}
		return 0, fmt.Errorf("ask the Price List for %s in %s: %w", instanceType, region, err)
	}
	for _, doc := range out.PriceList {
		if p := onDemandHourly(doc); p > 0 {
			return p, nil
		}
	}
	return 0, nil
}

// priceDoc is the part of a PriceList document the bill reads.
type priceDoc struct {
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// onDemandHourly reads the hourly USD price of a PriceList document's
// on-demand term; 0 when it has none.
func onDemandHourly(doc string) float64 {
	var d priceDoc
	if json.Unmarshal([]byte(doc), &d) != nil {
		return 0
	}
	for _, term := range d.Terms.OnDemand {
		for _, dim := range term.PriceDimensions {
			if dim.Unit != "Hrs" {
				continue
			}
			if p, err := strconv.ParseFloat(dim.PricePerUnit["USD"], 64); err == nil && p > 0 {
				return p
			}
		}
	}
	return 0
}

// spend asks Cost Explorer for the unblended cost per service and region,
// day by day from the leak's day to today, and adds the days up.
func spend(ctx context.Context, api CostAPI, since, now time.Time) (*Spend, error) {
	start, end := day(since), day(now.AddDate(0, 0, 1))
	s := &Spend{Start: start, End: end, Lines: []SpendLine{}}
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(start), End: aws.String(end)},
		Granularity: cetypes.GranularityDaily,
		Metrics:     []string{"UnblendedCost"},
		GroupBy: []cetypes.GroupDefinition{
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")},
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("REGION")},
		},
	}
	sums := map[[2]string]float64{}
	for pages := 0; ; pages++ {
		if pages == 100 {
			return nil, fmt.Errorf("read the spend: Cost Explorer kept paging past 100 pages")
		}
		out, err := api.GetCostAndUsage(ctx, in, func(o *costexplorer.Options) { o.Region = PricingRegion })
		if err != nil {
			if denied(err) {
				return nil, fmt.Errorf("ce:GetCostAndUsage was denied: %w", err)
			}
			return nil, fmt.Errorf("read the spend: %w", err)
		}
		for _, r := range out.ResultsByTime {
			if r.Estimated {
				s.Estimated = true
			}
			for _, g := range r.Groups {
				if len(g.Keys) != 2 {
					continue
				}
				m, ok := g.Metrics["UnblendedCost"]
				if !ok {
					continue
				}
				v, err := strconv.ParseFloat(aws.ToString(m.Amount), 64)
				if err != nil {
					continue
				}
				sums[[2]string{g.Keys[0], g.Keys[1]}] += v
			}
		}
		if aws.ToString(out.NextPageToken) == "" {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	for k, v := range sums {
		s.Lines = append(s.Lines, SpendLine{Service: k[0], Region: k[1], AmountUSD: v})
	}
	sort.Slice(s.Lines, func(i, j int) bool {
		if s.Lines[i].AmountUSD != s.Lines[j].AmountUSD {
			return s.Lines[i].AmountUSD > s.Lines[j].AmountUSD
		}
		return s.Lines[i].Service+s.Lines[i].Region < s.Lines[j].Service+s.Lines[j].Region
	})
	// Summed in the lines' order, not the map's: floating-point addition
	// depends on the order, and the same bill must give the same total in
	// every report written from it.
	for _, l := range s.Lines {
		s.TotalUSD += l.AmountUSD
	}
	return s, nil
}
