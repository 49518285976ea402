package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/keyleak/keyleak/trail"
)

// QuarantineEvents looks up, in us-east-1's CloudTrail (where IAM logs),
// AWS attaching its quarantine policy to user within the window. AWS makes
// that call itself, not with the key, so a sweep by access key never finds
// it; pass the result to Assess as Options.Context. One or two
// LookupEvents pages: AttachUserPolicy events are few.
func QuarantineEvents(ctx context.Context, api cloudtrail.LookupEventsAPIClient, user string, w trail.Window) ([]trail.Event, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AttachUserPolicy")}},
	}
	if !w.Since.IsZero() {
		in.StartTime = aws.Time(w.Since)
	}
	if !w.Until.IsZero() {
		in.EndTime = aws.Time(w.Until)
	}
	var out []trail.Event
	p := cloudtrail.NewLookupEventsPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("look up quarantine events: %w", err)
		}
		for _, ev := range page.Events {
			e, err := trail.ParseRecord([]byte(aws.ToString(ev.CloudTrailEvent)))
			if err != nil {
				continue // not a record; nothing to learn from it
			}
			if !strings.Contains(e.RequestString("policyArn"), "AWSCompromisedKeyQuarantine") {
				continue
			}
			if user != "" && e.RequestString("userName") != user {
				continue
			}
			out = append(out, e)
		}
	}
	return out, nil
}
