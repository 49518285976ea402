package trailtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"github.com/keyleak/keyleak/trail/trailtest"
)

func byKey(key string) []types.LookupAttribute {
	return []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestCloudTrailLookupRules(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 120 {
		key := "AKIAAAAAAAAAAAAAAAAA"
		if i%4 == 0 {
			key = "AKIABBBBBBBBBBBBBBBB"
		}
		rec := fmt.Sprintf(`{"eventID":"e%03d","eventTime":%q,"eventName":"ListUsers","userIdentity":{"accessKeyId":%q}}`,
			i, t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), key)
		if err := ct.AddRecord("us-east-1", []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	c := ct.Client("us-east-1")
	ctx := context.Background()
	in := &cloudtrail.LookupEventsInput{LookupAttributes: byKey("AKIAAAAAAAAAAAAAAAAA")}
	var all []types.Event
	for {
		out, err := c.LookupEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) > 50 {
			t.Fatalf("page of %d events", len(out.Events))
		}
		all = append(all, out.Events...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(all) != 90 || aws.ToString(all[0].EventId) != "e119" || aws.ToString(all[89].EventId) != "e001" {
		t.Errorf("%d events, first %s, last %s; want 90 newest first", len(all), aws.ToString(all[0].EventId), aws.ToString(all[len(all)-1].EventId))
	}
	out, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey("AKIAAAAAAAAAAAAAAAAA"), MaxResults: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey("AKIABBBBBBBBBBBBBBBB"), NextToken: out.NextToken})
	if code(err) != "InvalidNextTokenException" {
		t.Errorf("token reused with other parameters: %v", err)
	}
	two := append(byKey("AKIAAAAAAAAAAAAAAAAA"), byKey("AKIABBBBBBBBBBBBBBBB")...)
	if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: two}); code(err) != "InvalidLookupAttributesException" {
		t.Errorf("two attributes: %v", err)
	}
	if _, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}); code(err) != "InvalidMaxResultsException" {
		t.Errorf("MaxResults 51: %v", err)
	}
	ct.Inject("us-east-1", trailtest.Throttling(), nil, trailtest.ServerError(503))
	for i, want := range []string{"ThrottlingException", "", "InternalFailure"} {
		_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if code(err) != want {
			t.Errorf("call %d: %v, want %q", i, err, want)
		}
	}
	if ct.Calls("us-east-1") != 2+4+3 {
		t.Errorf("%d calls counted", ct.Calls("us-east-1"))
	}
}
