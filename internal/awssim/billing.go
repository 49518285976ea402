package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The account's bill: the AWS Price List API (pricing:GetProducts, in the
// shape of its PriceList JSON documents) for what instances cost per hour,
// and Cost Explorer (ce:GetCostAndUsage) for what the account has spent,
// computed from the instances the simulator ran and those prices.

// regionLocation is the Price List's location name of a region.
var regionLocation = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)",
	"eu-central-1": "EU (Frankfurt)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-south-1": "Asia Pacific (Mumbai)", "sa-east-1": "South America (Sao Paulo)",
	"ap-east-1": "Asia Pacific (Hong Kong)", "ca-central-1": "Canada (Central)",
}

// simPrices are public on-demand Linux prices (USD per hour) of the
// instance types the shipped scenarios start, per region: what the
// simulated Price List answers and the simulated bill charges.
var simPrices = map[string]map[string]float64{
	"c5.large":    {"us-east-1": 0.085, "us-east-2": 0.085, "us-west-2": 0.085, "eu-west-1": 0.096, "eu-central-1": 0.097, "ap-southeast-1": 0.098, "ap-northeast-1": 0.107, "sa-east-1": 0.131},
	"g4dn.xlarge": {"us-east-1": 0.526, "us-east-2": 0.526, "us-west-2": 0.526, "eu-west-1": 0.587, "ap-southeast-1": 0.736, "ap-northeast-1": 0.71},
	"p3.2xlarge":  {"us-east-1": 3.06, "us-east-2": 3.06, "us-west-2": 3.06, "eu-west-1": 3.305, "ap-northeast-1": 4.194, "ap-southeast-1": 4.234},
	"t2.micro":    {"us-east-1": 0.0116, "us-east-2": 0.0116, "us-west-2": 0.0116, "eu-west-1": 0.0126, "ap-southeast-1": 0.0146, "ap-northeast-1": 0.0152, "sa-east-1": 0.0186},
}

// c5Sizes are the c5 sizes as multiples of c5.large, which is priced.
var c5Sizes = map[string]float64{"large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8, "9xlarge": 18, "12xlarge": 24, "18xlarge": 36, "24xlarge": 48}

// simPrice is the simulated on-demand Linux price of an instance type in a
// region; false when the simulator has none.
func simPrice(instanceType, region string) (float64, bool) {
	if p, ok := simPrices[instanceType][region]; ok {
		return p, true
	}
	if size, ok := strings.CutPrefix(instanceType, "c5."); ok {
		if f, ok := c5Sizes[size]; ok {
			if p, ok := simPrices["c5.large"][region]; ok {
				return p * f, true
			}
		}
	}
	return 0, false
}

// pricingOps returns the handlers of the simulated Price List API (JSON 1.1,
// X-Amz-Target AWSPriceListService.<Action>).
func pricingOps() map[string]handler {
	return map[string]handler{"GetProducts": pricingGetProducts}
}

// priceListRegions are where the Price List API has endpoints.
var priceListRegions = []string{"us-east-1", "eu-central-1", "ap-south-1"}

// product is one Price List product of the simulator's.
type product struct {
	attrs map[string]string
	usd   float64
}

// products lists the simulator's EC2 products: for every priced type and
// region, Linux and Windows on shared tenancy and Linux on dedicated, so
// that a query must filter as a real one does.
func products() []product {
	var out []product
	var types []string
	for t := range simPrices {
		types = append(types, t)
	}
	for size := range c5Sizes {
		if size != "large" {
			types = append(types, "c5."+size)
		}
	}
	sort.Strings(types)
	regions := make([]string, 0, len(regionLocation))
	for r := range regionLocation {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, t := range types {
		for _, r := range regions {
			p, ok := simPrice(t, r)
			if !ok {
				continue
			}
			base := map[string]string{
				"servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud", "instanceType": t,
				"instanceFamily": "Compute optimized", "regionCode": r, "location": regionLocation[r],
				"locationType": "AWS Region", "operatingSystem": "Linux", "tenancy": "Shared",
				"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required",
				"operation": "RunInstances", "usagetype": usagePrefix(r) + "BoxUsage:" + t,
			}
			win := clone(base)
			win["operatingSystem"], win["operation"] = "Windows", "RunInstances:0002"
			ded := clone(base)
			ded["tenancy"], ded["usagetype"] = "Dedicated", usagePrefix(r)+"DedicatedUsage:"+t
			out = append(out, product{base, p}, product{win, p * 1.84}, product{ded, p * 1.1})
		}
	}
	return out
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// usagePrefix is the region's prefix of usage types: USE1-, EU-, APS1-…
func usagePrefix(region string) string {
	switch region {
	case "us-east-1":
		return ""
	case "eu-west-1":
		return "EU-"
	}
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return ""
	}
	dir := map[string]string{"east": "E", "west": "W", "southeast": "SE", "northeast": "NE", "south": "S", "central": "C"}[parts[1]]
	return strings.ToUpper(parts[0]) + dir + parts[2] + "-"
}

// sku is a stable product code made of the product's attributes.
func sku(attrs map[string]string) string {
	return strings.ToUpper(stableHex(16, attrs["regionCode"], attrs["instanceType"], attrs["operatingSystem"], attrs["tenancy"]))
}

// priceListDoc renders one product as the Price List API's PriceList entry:
// a JSON document (as a string) with the product, its on-demand term and
// its hourly price dimension.
func priceListDoc(p product, published time.Time) string {
	code := sku(p.attrs)
	const offer, rate = "JRTCKXETXF", "6YS6EN2CT7"
	os := p.attrs["operatingSystem"]
	doc := map[string]any{
		"product": map[string]any{
			"productFamily": "Compute Instance",
			"attributes":    p.attrs,
			"sku":           code,
		},
		"serviceCode": "AmazonEC2",
		"terms": map[string]any{
			"OnDemand": map[string]any{
				code + "." + offer: map[string]any{
					"priceDimensions": map[string]any{
						code + "." + offer + "." + rate: map[string]any{
							"unit":         "Hrs",
							"endRange":     "Inf",
							"description":  fmt.Sprintf("$%s per On Demand %s %s Instance Hour", strconv.FormatFloat(p.usd, 'f', -1, 64), os, p.attrs["instanceType"]),
							"appliesTo":    []string{},
							"rateCode":     code + "." + offer + "." + rate,
							"beginRange":   "0",
							"pricePerUnit": map[string]string{"USD": strconv.FormatFloat(p.usd, 'f', 10, 64)},
						},
					},
					"sku":            code,
					"effectiveDate":  published.Format("2006-01-02T15:04:05Z"),
					"offerTermCode":  offer,
					"termAttributes": map[string]any{},
				},
			},
		},
		"version":         published.Format("20060102150405"),
		"publicationDate": published.Format("2006-01-02T15:04:05Z"),
	}
	b, _ := json.Marshal(doc) // maps of strings and numbers always encode
	return string(b)
}

// pricingGetProducts answers GetProducts for AmazonEC2 with TERM_MATCH
// filters on the products' attributes, 100 a page at most.
func pricingGetProducts(s *Sim, c *Call) (*Result, error) {
	if !slices.Contains(priceListRegions, c.Region) {
		return nil, errf(http.StatusBadRequest, "InvalidParameterException", "The Price List API is served in %s only.", strings.Join(priceListRegions, ", "))
	}
	var in struct {
		ServiceCode   string
		FormatVersion string
		NextToken     string
		MaxResults    *int
		Filters       []struct{ Type, Field, Value string }
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	if in.ServiceCode == "" {
		return nil, errf(http.StatusBadRequest, "InvalidParameterException", "ServiceCode is required.")
	}
	if in.FormatVersion != "" && in.FormatVersion != "aws_v1" {
		return nil, errf(http.StatusBadRequest, "InvalidParameterException", "Unsupported format version %s.", in.FormatVersion)
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errf(http.StatusBadRequest, "InvalidParameterException", "MaxResults must be between 1 and 100.")
		}
		limit = *in.MaxResults
	}
	for _, f := range in.Filters {
		if f.Type != "TERM_MATCH" && f.Type != "EQUALS" {
			return nil, errf(http.StatusBadRequest, "InvalidParameterException", "Unsupported filter type %s.", f.Type)
		}
	}
	var docs []string
	if in.ServiceCode == "AmazonEC2" {
		published := time.Date(c.Time.Year(), c.Time.Month(), 1, 0, 0, 0, 0, time.UTC)
		for _, p := range products() {
			ok := true
			for _, f := range in.Filters {
				if !strings.EqualFold(p.attrs[f.Field], f.Value) {
					ok = false
					break
				}
			}
			if ok {
				docs = append(docs, priceListDoc(p, published))
			}
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(docs) {
			return nil, errf(http.StatusBadRequest, "InvalidNextTokenException", "The pagination token is invalid.")
		}
		start = n
	}
	end := min(start+limit, len(docs))
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": append([]string{}, docs[start:end]...)}
	if end < len(docs) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return &Result{JSON: out, Request: map[string]any{"serviceCode": in.ServiceCode, "formatVersion": in.FormatVersion}}, nil
}

// ceOps returns the handlers of the simulated Cost Explorer (JSON 1.1,
// X-Amz-Target AWSInsightsIndexService.<Action>).
func ceOps() map[string]handler {
	return map[string]handler{"GetCostAndUsage": ceGetCostAndUsage}
}

// ceEC2Service is Cost Explorer's SERVICE dimension value of instances.
const ceEC2Service = "Amazon Elastic Compute Cloud - Compute"

// ceGetCostAndUsage answers what the account's instances cost, day by day
// (or month by month) between Start and End (exclusive), grouped by the
// SERVICE and REGION dimensions asked for, at the simulator's prices.
func ceGetCostAndUsage(s *Sim, c *Call) (*Result, error) {
	if c.Region != "us-east-1" {
		return nil, errf(http.StatusBadRequest, "ValidationException", "Cost Explorer is served in us-east-1.")
	}
	var in struct {
		TimePeriod  struct{ Start, End string }
		Granularity string
		Metrics     []string
		GroupBy     []struct{ Type, Key string }
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	start, err1 := time.Parse("2006-01-02", in.TimePeriod.Start)
	end, err2 := time.Parse("2006-01-02", in.TimePeriod.End)
	if err1 != nil || err2 != nil || !end.After(start) {
		return nil, errf(http.StatusBadRequest, "ValidationException", "Start date (and hour) should be before end date (and hour)")
	}
	if end.Sub(start) > 400*24*time.Hour {
		return nil, errf(http.StatusBadRequest, "ValidationException", "The time period is longer than Cost Explorer keeps.")
	}
	if len(in.Metrics) == 0 {
		return nil, errf(http.StatusBadRequest, "ValidationException", "Metrics is required.")
	}
	if len(in.GroupBy) > 2 {
		return nil, errf(http.StatusBadRequest, "ValidationException", "At most two group-by dimensions are allowed.")
	}
	for _, g := range in.GroupBy {
		if g.Type != "DIMENSION" || (g.Key != "SERVICE" && g.Key != "REGION") {
			return nil, errf(http.StatusBadRequest, "ValidationException", "The simulator groups by the SERVICE and REGION dimensions.")
		}
	}
	step := func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	switch in.Granularity {
	case "DAILY", "":
	case "MONTHLY":
		step = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC) }
	default:
		return nil, errf(http.StatusBadRequest, "ValidationException", "Granularity %s is not served by the simulator.", in.Granularity)
	}
	now := c.Time.UTC()
	var results []any
	for t := start; t.Before(end); t = step(t) {
		next := minTime(step(t), end)
		groups := map[string]float64{}
		total := 0.0
		for _, r := range s.acct.Regions {
			rs := s.acct.region(r.Name)
			if rs == nil {
				continue
			}
			for _, i := range rs.Instances {
				p, ok := simPrice(i.InstanceType, r.Name)
				if !ok {
					continue
				}
				stop := now
				if i.State == "terminated" {
					stop = i.Ended
				}
				from, to := maxTime(i.LaunchTime, t), minTime(stop, next)
				if !to.After(from) {
					continue
				}
				cost := p * to.Sub(from).Hours()
				var keys []string
				for _, g := range in.GroupBy {
					if g.Key == "SERVICE" {
						keys = append(keys, ceEC2Service)
					} else {
						keys = append(keys, r.Name)
					}
				}
				groups[strings.Join(keys, "\x00")] += cost
				total += cost
			}
		}
		metrics := func(v float64) map[string]any {
			m := map[string]any{}
			for _, name := range in.Metrics {
				m[name] = map[string]string{"Amount": strconv.FormatFloat(v, 'f', 10, 64), "Unit": "USD"}
			}
			return m
		}
		res := map[string]any{
			"TimePeriod": map[string]string{"Start": t.Format("2006-01-02"), "End": next.Format("2006-01-02")},
			"Estimated":  next.After(now.Truncate(24 * time.Hour)),
			"Groups":     []any{},
			"Total":      map[string]any{},
		}
		if len(in.GroupBy) == 0 {
			res["Total"] = metrics(total)
		} else {
			keys := make([]string, 0, len(groups))
			for k := range groups {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var gs []any
			for _, k := range keys {
				gs = append(gs, map[string]any{"Keys": strings.Split(k, "\x00"), "Metrics": metrics(groups[k])})
			}
			if gs != nil {
				res["Groups"] = gs
			}
		}
		results = append(results, res)
	}
	var defs []any
	for _, g := range in.GroupBy {
		defs = append(defs, map[string]string{"Type": g.Type, "Key": g.Key})
	}
	out := map[string]any{"ResultsByTime": results, "DimensionValueAttributes": []any{}}
	if defs != nil {
		out["GroupDefinitions"] = defs
	}
	return &Result{JSON: out, Request: map[string]any{"timePeriod": map[string]string{"start": in.TimePeriod.Start, "end": in.TimePeriod.End},
		"granularity": in.Granularity, "metrics": in.Metrics}}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
