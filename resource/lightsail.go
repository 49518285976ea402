package resource

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/keyleak/keyleak/trail"
)

// TypeLightsail is a Lightsail instance the chain created: a flat-priced
// server outside EC2's console and quotas.
const TypeLightsail = "AWS::Lightsail::Instance"

func lightsailKind() Kind {
	return simple{
		Type:   TypeLightsail,
		Title:  "Lightsail instance",
		Events: []string{"CreateInstances", "CreateInstancesFromSnapshot"},
		Extract: fromSource("lightsail.amazonaws.com", func(e *trail.Event) []Resource {
			var names []string
			if json.Unmarshal(e.Request("instanceNames"), &names) != nil {
				return nil
			}
			var out []Resource
			for _, n := range names {
				out = append(out, Resource{ID: n})
			}
			return out
		}),
		Service:  "Lightsail",
		Has:      func(c *Clients) bool { return c.Lightsail != nil },
		Calls:    []string{"lightsail:GetInstance", "lightsail:DeleteInstance"},
		NotFound: []string{"NotFoundException", "DoesNotExist"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Lightsail(region).GetInstance(ctx, &lightsail.GetInstanceInput{InstanceName: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			st := ""
			if out.Instance != nil && out.Instance.State != nil {
				st = aws.ToString(out.Instance.State.Name)
			}
			return true, st, nil
		},
		API: "DeleteInstance",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Lightsail(region).DeleteInstance(ctx, &lightsail.DeleteInstanceInput{InstanceName: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("lightsail delete-instance --region %s --instance-name %s", region, p["ID"])
		},
		RemovedBy: "lightsail:DeleteInstance",
	}.kind()
}
