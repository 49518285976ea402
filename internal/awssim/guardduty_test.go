package awssim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

func (f *ecgFixture) guardduty(region string) *guardduty.Client {
	return guardduty.NewFromConfig(f.srv.Config(f.key, region))
}

func TestGuardDutyFindings(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	region := "us-east-1"
	c := f.guardduty(region)

	none, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.DetectorIds) != 0 {
		t.Fatalf("detectors before GuardDuty is enabled = %v", none.DetectorIds)
	}
	if _, err := f.sim.AddGuardDutyFinding(region, GuardDutyFinding{Type: "Recon:IAMUser/MaliciousIPCaller"}); err == nil {
		t.Error("finding added without a detector")
	}
	if id := f.sim.EnableGuardDuty("xx-nowhere-1"); id != "" {
		t.Errorf("detector %q in a region that does not exist", id)
	}

	det := f.sim.EnableGuardDuty(region)
	if again := f.sim.EnableGuardDuty(region); again != det || len(det) != 32 {
		t.Errorf("detector IDs %q then %q, want one 32-character ID", det, again)
	}
	first := time.Date(2024, 5, 1, 19, 17, 0, 0, time.UTC)
	exfil, err := f.sim.AddGuardDutyFinding(region, GuardDutyFinding{
		Type:        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
		Severity:    8,
		AccessKeyID: f.key.AccessKeyID,
		UserName:    "alice",
		Description: "Credentials of alice were used from outside AWS.",
		API:         "CreateUser",
		ServiceName: "iam.amazonaws.com",
		RemoteIP:    "198.51.100.7",
		Count:       12,
		FirstSeen:   first,
		LastSeen:    first.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	recon, err := f.sim.AddGuardDutyFinding(region, GuardDutyFinding{
		Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 2, AccessKeyID: "AKIAOTHERKEY00000000", UserName: "bob",
		API: "ListUsers", FirstSeen: first.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}

	dets, err := c.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dets.DetectorIds, []string{det}) {
		t.Errorf("detectors = %v, want [%s]", dets.DetectorIds, det)
	}
	other, err := f.guardduty("eu-west-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.DetectorIds) != 0 {
		t.Errorf("eu-west-1 detectors = %v, want none", other.DetectorIds)
	}

	all, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.FindingIds) != 2 {
		t.Errorf("findings = %v, want 2", all.FindingIds)
	}
	for _, crit := range []types.Condition{{Eq: []string{f.key.AccessKeyID}}, {Equals: []string{f.key.AccessKeyID}}} {
		byKey, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{
			DetectorId:      aws.String(det),
			FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"resource.accessKeyDetails.accessKeyId": crit}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(byKey.FindingIds, []string{exfil}) {
			t.Errorf("findings of the key = %v, want [%s]", byKey.FindingIds, exfil)
		}
	}
	high, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{
		DetectorId:      aws.String(det),
		FindingCriteria: &types.FindingCriteria{Criterion: map[string]types.Condition{"severity": {GreaterThanOrEqual: aws.Int64(7)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(high.FindingIds, []string{exfil}) {
		t.Errorf("high-severity findings = %v", high.FindingIds)
	}
	page, err := c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det), MaxResults: aws.Int32(1),
		SortCriteria: &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByAsc}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page.FindingIds, []string{recon}) || aws.ToString(page.NextToken) == "" {
		t.Errorf("first page by severity = %v, next %q", page.FindingIds, aws.ToString(page.NextToken))
	}
	page, err = c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det), MaxResults: aws.Int32(1), NextToken: page.NextToken,
		SortCriteria: &types.SortCriteria{AttributeName: aws.String("severity"), OrderBy: types.OrderByAsc}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page.FindingIds, []string{exfil}) || page.NextToken != nil {
		t.Errorf("second page = %v, next %v", page.FindingIds, page.NextToken)
	}

	got, err := c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(det), FindingIds: []string{exfil, "0000"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 1 {
		t.Fatalf("GetFindings = %d findings, want 1", len(got.Findings))
	}
	fd := got.Findings[0]
	keyDetails := fd.Resource.AccessKeyDetails
	call := fd.Service.Action.AwsApiCallAction
	switch {
	case aws.ToString(fd.Id) != exfil, aws.ToString(fd.Type) != "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
		aws.ToFloat64(fd.Severity) != 8, aws.ToString(fd.Region) != region, aws.ToString(fd.AccountId) != f.sim.AccountID(),
		aws.ToString(fd.CreatedAt) != "2024-05-01T19:17:00.000Z", aws.ToString(fd.UpdatedAt) != "2024-05-01T21:17:00.000Z",
		aws.ToString(fd.Title) != aws.ToString(fd.Type):
		t.Errorf("finding = %+v", fd)
	case aws.ToString(keyDetails.AccessKeyId) != f.key.AccessKeyID, aws.ToString(keyDetails.UserName) != "alice",
		aws.ToString(keyDetails.UserType) != "IAMUser", aws.ToString(keyDetails.PrincipalId) == "":
		t.Errorf("access key details = %+v", keyDetails)
	case aws.ToInt32(fd.Service.Count) != 12, aws.ToString(fd.Service.EventFirstSeen) != "2024-05-01T19:17:00.000Z",
		aws.ToString(fd.Service.DetectorId) != det, aws.ToString(call.Api) != "CreateUser",
		aws.ToString(call.RemoteIpDetails.IpAddressV4) != "198.51.100.7":
		t.Errorf("service = %+v, call %+v", fd.Service, call)
	}

	_, err = c.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String("0123456789abcdef0123456789abcdef")})
	ecgWant(t, err, "BadRequestException")
	_, err = c.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String("0123456789abcdef0123456789abcdef"), FindingIds: []string{exfil}})
	ecgWant(t, err, "BadRequestException")

	rec, _ := f.findRecord(t, region, "GetFindings", ecgOK)
	if ecgDig(rec, "requestParameters", "detectorId") != det || ecgDig(rec, "eventSource") != "guardduty.amazonaws.com" {
		t.Errorf("GetFindings record: %v", rec)
	}
}
