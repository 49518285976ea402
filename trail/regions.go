package trail

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// RegionsAPI is the EC2 call that lists the account's regions.
type RegionsAPI interface {
	DescribeRegions(ctx context.Context, params *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// Region is one AWS region of the account.
type Region struct {
	Name        string `json:"name"`
	OptInStatus string `json:"optInStatus"` // opt-in-not-required, opted-in, not-opted-in
	Enabled     bool   `json:"enabled"`
}

// enabledByDefault are the commercial regions AWS launched before 20 March
// 2019: every account has them enabled and none can disable them. One
// reported "not-opted-in" is a listing that cannot be trusted, not a region
// without events.
var enabledByDefault = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"ca-central-1": true, "sa-east-1": true,
	"eu-west-1": true, "eu-west-2": true, "eu-west-3": true, "eu-central-1": true, "eu-north-1": true,
	"ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ap-south-1": true, "ap-southeast-1": true, "ap-southeast-2": true,
}

// ListRegions lists every region of the partition, enabled or not
// (DescribeRegions with AllRegions), sorted by name. Regions that are not
// opted in come back with Enabled false, so the sweep can report them
// instead of silently skipping them — except regions enabled by default,
// which cannot be disabled: those are searched whatever the listing says,
// and a failure there is a failure, not "not enabled".
func ListRegions(ctx context.Context, api RegionsAPI) ([]Region, error) {
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("describe regions: %w", err)
	}
	regions := make([]Region, 0, len(out.Regions))
	for _, r := range out.Regions {
		name := aws.ToString(r.RegionName)
		if name == "" {
			continue
		}
		status := aws.ToString(r.OptInStatus)
		regions = append(regions, Region{Name: name, OptInStatus: status, Enabled: status != "not-opted-in" || enabledByDefault[name]})
	}
	slices.SortFunc(regions, func(a, b Region) int { return strings.Compare(a.Name, b.Name) })
	return regions, nil
}

// SelectRegions narrows the known regions to the names given (--regions
// a,b). No names, or the single name "all", select every region. A name
// that is not a known region is an error naming it; a chosen region that is
// not enabled stays in the list and is reported as such.
func SelectRegions(known []Region, names []string) ([]Region, error) {
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return slices.Clone(known), nil
	}
	byName := map[string]Region{}
	for _, r := range known {
		byName[r.Name] = r
	}
	var out []Region
	var unknown []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		r, ok := byName[n]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		out = append(out, r)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("select regions: unknown region %s", strings.Join(unknown, ", "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("select regions: no region given")
	}
	slices.SortFunc(out, func(a, b Region) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
