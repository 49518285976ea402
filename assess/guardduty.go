package assess

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"golang.org/x/sync/errgroup"

	"github.com/keyleak/keyleak/trail"
)

// GuardDutyAPI is what the findings search calls; *guardduty.Client
// satisfies it.
type GuardDutyAPI interface {
	ListDetectors(ctx context.Context, params *guardduty.ListDetectorsInput, optFns ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error)
	ListFindings(ctx context.Context, params *guardduty.ListFindingsInput, optFns ...func(*guardduty.Options)) (*guardduty.ListFindingsOutput, error)
	GetFindings(ctx context.Context, params *guardduty.GetFindingsInput, optFns ...func(*guardduty.Options)) (*guardduty.GetFindingsOutput, error)
}

var _ GuardDutyAPI = (*guardduty.Client)(nil)

// Finding is a GuardDuty finding about one of the keys.
type Finding struct {
	Region      string    `json:"region"`
	DetectorID  string    `json:"detectorId"`
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Severity    float64   `json:"severity"`
	AccessKeyID string    `json:"accessKeyId"`
	UserName    string    `json:"userName,omitempty"`
	API         string    `json:"api,omitempty"` // the call GuardDuty saw
	SourceIP    string    `json:"sourceIPAddress,omitempty"`
	Count       int       `json:"count"`
	FirstSeen   time.Time `json:"firstSeen,omitzero"`
	LastSeen    time.Time `json:"lastSeen,omitzero"`
}

// GuardDutyRegion is how the search went in one region.
type GuardDutyRegion struct {
	Region     string `json:"region"`
	DetectorID string `json:"detectorId,omitempty"` // "" when GuardDuty is off there
	Findings   int    `json:"findings"`
	Error      string `json:"error,omitempty"`
}

// GuardDutyResult is every region's detector and the findings found.
type GuardDutyResult struct {
	Regions  []GuardDutyRegion `json:"regions"`
	Findings []Finding         `json:"findings"`
}

// Failed tells whether some region could not be searched.
func (r GuardDutyResult) Failed() bool {
	for _, g := range r.Regions {
		if g.Error != "" {
			return true
		}
	}
	return false
}

// guardDutyIDLimit is the most finding IDs GetFindings takes at once.
const guardDutyIDLimit = 50

// GuardDuty searches every given region's detectors for findings about the
// keys (the leaked key and its derived keys), by the finding criterion
// resource.accessKeyDetails.accessKeyId. Regions run concurrently; a
// region's failure is recorded in its entry, not returned. Findings are
// sorted by first sighting.
func GuardDuty(ctx context.Context, client func(region string) GuardDutyAPI, regions []string, keys []string) (GuardDutyResult, error) {
	res := GuardDutyResult{Regions: make([]GuardDutyRegion, len(regions)), Findings: []Finding{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inventoryLimit)
	for i, region := range regions {
		g.Go(func() error {
			found, gr := searchRegion(gctx, client(region), region, keys)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			res.Regions[i] = gr
			res.Findings = append(res.Findings, found...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, fmt.Errorf("search guardduty: %w", err)
	}
	sort.Slice(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.ID < b.ID
	})
	return res, nil
}

func searchRegion(ctx context.Context, api GuardDutyAPI, region string, keys []string) ([]Finding, GuardDutyRegion) {
	gr := GuardDutyRegion{Region: region}
	var detectors []string
	p := guardduty.NewListDetectorsPaginator(api, &guardduty.ListDetectorsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			gr.Error = fmt.Sprintf("list detectors: %v", err)
			return nil, gr
		}
		detectors = append(detectors, page.DetectorIds...)
	}
	var out []Finding
	for _, d := range detectors {
		gr.DetectorID = d
		crit := &gdtypes.FindingCriteria{Criterion: map[string]gdtypes.Condition{
			"resource.accessKeyDetails.accessKeyId": {Equals: slices.Clone(keys)},
		}}
		var ids []string
		lp := guardduty.NewListFindingsPaginator(api, &guardduty.ListFindingsInput{DetectorId: aws.String(d), FindingCriteria: crit})
		for lp.HasMorePages() {
			page, err := lp.NextPage(ctx)
			if err != nil {
				gr.Error = fmt.Sprintf("list findings: %v", err)
				return out, gr
			}
			ids = append(ids, page.FindingIds...)
		}
		for start := 0; start < len(ids); start += guardDutyIDLimit {
			batch := ids[start:min(start+guardDutyIDLimit, len(ids))]
			got, err := api.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(d), FindingIds: batch})
			if err != nil {
				gr.Error = fmt.Sprintf("get findings: %v", err)
				return out, gr
			}
			for _, f := range got.Findings {
				out = append(out, finding(region, d, f))
			}
		}
	}
	gr.Findings = len(out)
	return out, gr
}

func finding(region, detector string, f gdtypes.Finding) Finding {
	out := Finding{Region: region, DetectorID: detector, ID: aws.ToString(f.Id), Type: aws.ToString(f.Type),
		Title: aws.ToString(f.Title), Description: aws.ToString(f.Description), Severity: aws.ToFloat64(f.Severity)}
	if r := f.Resource; r != nil && r.AccessKeyDetails != nil {
		out.AccessKeyID = aws.ToString(r.AccessKeyDetails.AccessKeyId)
		out.UserName = aws.ToString(r.AccessKeyDetails.UserName)
	}
	if s := f.Service; s != nil {
		out.Count = int(aws.ToInt32(s.Count))
		out.FirstSeen, _ = trail.ParseTime(aws.ToString(s.EventFirstSeen))
		out.LastSeen, _ = trail.ParseTime(aws.ToString(s.EventLastSeen))
		if a := s.Action; a != nil && a.AwsApiCallAction != nil {
			out.API = aws.ToString(a.AwsApiCallAction.Api)
			if ip := a.AwsApiCallAction.RemoteIpDetails; ip != nil {
				out.SourceIP = aws.ToString(ip.IpAddressV4)
			}
		}
	}
	return out
}
