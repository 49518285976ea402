package resource

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Keeper is where a kind's Evidence keeps what it gathers: the playbook
// journals each call and writes each file into the case's evidence
// directory for the resource.
type Keeper interface {
	// Call makes one AWS call (action "ec2:GetConsoleOutput") to gather
	// evidence, journaled before and after; do returns what the journal
	// keeps of the answer (a summary: the data goes to a file).
	Call(ctx context.Context, action string, params map[string]string, do func() (any, error)) error
	// Save writes one file of the resource's evidence, as AWS gave it.
	Save(name string, data []byte) error
	// Download saves what a presigned URL AWS handed out serves (a
	// function's code), without keyleak's credentials, bounded in size.
	Download(ctx context.Context, name, url string) error
	// Missing notes a piece that could not be kept, and why; the removal
	// goes on.
	Missing(what string, err error)
	// CaseID names the case, for the tags of what evidence creates.
	CaseID() string
}

// impliedActions are the IAM actions a call needs besides its own: tags
// given at creation need ec2:CreateTags.
var impliedActions = map[string][]string{"ec2:CreateSnapshot": {"ec2:CreateTags"}}

// Tags evidence puts on what it creates.
const (
	TagCase     = "keyleak:case"
	TagResource = "keyleak:evidence-of"
)

// keepJSON saves v as indented JSON.
func keepJSON(k Keeper, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return k.Save(name, append(b, '\n'))
}

// instanceEvidence keeps an instance's metadata (DescribeInstances), an
// EBS snapshot of each volume tagged with the case, its console output and
// its user data (often the miner's install script). Snapshots taken before
// termination hold the disk as it was when the call returned.
func instanceEvidence(ctx context.Context, c *Clients, r Resource, k Keeper) error {
	if c.EC2 == nil {
		k.Missing("everything", errNoClient("EC2"))
		return nil
	}
	api := c.EC2(r.Region)
	var inst *ec2types.Instance
	err := k.Call(ctx, "ec2:DescribeInstances", map[string]string{"InstanceId": r.ID}, func() (any, error) {
		out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.ID}})
		if err != nil {
			return nil, err
		}
		for _, res := range out.Reservations {
			for i := range res.Instances {
				if aws.ToString(res.Instances[i].InstanceId) == r.ID {
					inst = &res.Instances[i]
				}
			}
		}
		if inst == nil {
			return nil, fmt.Errorf("instance %s is not listed", r.ID)
		}
		return map[string]any{"instanceId": r.ID, "state": inst.State, "instanceType": inst.InstanceType}, nil
	})
	if err != nil {
		k.Missing("metadata and volumes", err)
	} else {
		if err := keepJSON(k, "instance.json", inst); err != nil {
			return err
		}
		var snaps []map[string]string
		for _, bd := range inst.BlockDeviceMappings {
			if bd.Ebs == nil || bd.Ebs.VolumeId == nil {
				continue
			}
			vol := aws.ToString(bd.Ebs.VolumeId)
			desc := fmt.Sprintf("keyleak evidence: %s of %s, case %s", aws.ToString(bd.DeviceName), r.ID, k.CaseID())
			var snap string
			err := k.Call(ctx, "ec2:CreateSnapshot", map[string]string{"VolumeId": vol}, func() (any, error) {
				out, err := api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vol), Description: aws.String(desc),
					TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
						{Key: aws.String(TagCase), Value: aws.String(k.CaseID())},
						{Key: aws.String(TagResource), Value: aws.String(r.ID)},
					}}}})
				if err != nil {
					return nil, err
				}
				snap = aws.ToString(out.SnapshotId)
				return map[string]any{"snapshotId": snap, "volumeId": vol, "state": out.State}, nil
			})
			if err != nil {
				k.Missing("snapshot of "+vol, err)
				continue
			}
			snaps = append(snaps, map[string]string{"device": aws.ToString(bd.DeviceName), "volumeId": vol, "snapshotId": snap, "region": r.Region})
		}
		if err := keepJSON(k, "snapshots.json", snaps); err != nil {
			return err
		}
	}
	var console []byte
	err = k.Call(ctx, "ec2:GetConsoleOutput", map[string]string{"InstanceId": r.ID}, func() (any, error) {
		out, err := api.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(r.ID)})
		if err != nil {
			return nil, err
		}
		if console, err = base64.StdEncoding.DecodeString(aws.ToString(out.Output)); err != nil {
			return nil, fmt.Errorf("decode console output: %w", err)
		}
		return map[string]any{"instanceId": r.ID, "bytes": len(console), "timestamp": out.Timestamp}, nil
	})
	if err != nil {
		k.Missing("console output", err)
	} else if err := k.Save("console-output.txt", console); err != nil {
		return err
	}
	var userData []byte
	err = k.Call(ctx, "ec2:DescribeInstanceAttribute", map[string]string{"InstanceId": r.ID, "Attribute": "userData"}, func() (any, error) {
		out, err := api.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(r.ID),
			Attribute: ec2types.InstanceAttributeNameUserData})
		if err != nil {
			return nil, err
		}
		if out.UserData != nil && out.UserData.Value != nil {
			if userData, err = base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value)); err != nil {
				return nil, fmt.Errorf("decode user data: %w", err)
			}
		}
		return map[string]any{"instanceId": r.ID, "bytes": len(userData)}, nil
	})
	if err != nil {
		k.Missing("user data", err)
	} else if err := k.Save("user-data.bin", userData); err != nil {
		return err
	}
	return nil
}

// functionEvidence keeps a function's configuration (GetFunction, without
// the presigned URL) and its deployment package, downloaded from
// Code.Location.
func functionEvidence(ctx context.Context, c *Clients, r Resource, k Keeper) error {
	if c.Lambda == nil {
		k.Missing("everything", errNoClient("Lambda"))
		return nil
	}
	var out *lambda.GetFunctionOutput
	err := k.Call(ctx, "lambda:GetFunction", map[string]string{"FunctionName": r.ID}, func() (any, error) {
		var err error
		if out, err = c.Lambda(r.Region).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.ID)}); err != nil {
			return nil, err
		}
		sum := map[string]any{"functionName": r.ID}
		if out.Configuration != nil {
			sum["codeSha256"], sum["codeSize"] = out.Configuration.CodeSha256, out.Configuration.CodeSize
		}
		return sum, nil
	})
	if err != nil {
		k.Missing("configuration and code", err)
		return nil
	}
	// The presigned URL carries a token of AWS's and expires: the file
	// keeps what the function is, not where it was fetched from.
	kept := map[string]any{"Configuration": out.Configuration, "Tags": out.Tags, "Concurrency": out.Concurrency}
	loc := ""
	if out.Code != nil {
		kept["Code"] = map[string]any{"RepositoryType": out.Code.RepositoryType, "ImageUri": out.Code.ImageUri,
			"ResolvedImageUri": out.Code.ResolvedImageUri}
		loc = aws.ToString(out.Code.Location)
	}
	if err := keepJSON(k, "function.json", kept); err != nil {
		return err
	}
	switch {
	case loc != "":
		if err := k.Download(ctx, "code.zip", loc); err != nil {
			k.Missing("code package", err)
		}
	case out.Code != nil && out.Code.ImageUri != nil:
		k.Missing("code package", fmt.Errorf("the function runs the container image %s: pull it from ECR", aws.ToString(out.Code.ImageUri)))
	default:
		k.Missing("code package", fmt.Errorf("GetFunction gave no code location"))
	}
	return nil
}

// decodedPolicy turns IAM's URL-encoded policy document into JSON.
func decodedPolicy(doc string) json.RawMessage {
	d, err := url.QueryUnescape(doc)
	if err != nil {
		d = doc
	}
	if json.Valid([]byte(d)) {
		return json.RawMessage(d)
	}
	b, _ := json.Marshal(d) // a string always encodes
	return b
}

// userEvidence keeps a user's policies before they are deleted: each
// inline policy's document and the managed policies attached.
func userEvidence(ctx context.Context, c *Clients, r Resource, k Keeper) error {
	return principalEvidence(ctx, c, r, k, "user")
}

// roleEvidence keeps a role's trust policy, inline policy documents and
// attached managed policies before they are deleted.
func roleEvidence(ctx context.Context, c *Clients, r Resource, k Keeper) error {
	return principalEvidence(ctx, c, r, k, "role")
}

func principalEvidence(ctx context.Context, c *Clients, r Resource, k Keeper, kind string) error {
	if c.IAM == nil {
		k.Missing("policies", errNoClient("IAM"))
		return nil
	}
	doc := map[string]any{kind: r.ID}
	name := aws.String(r.ID)
	if kind == "role" {
		err := k.Call(ctx, "iam:GetRole", map[string]string{"RoleName": r.ID}, func() (any, error) {
			out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
			if err != nil {
				return nil, err
			}
			doc["arn"] = out.Role.Arn
			doc["trustPolicy"] = decodedPolicy(aws.ToString(out.Role.AssumeRolePolicyDocument))
			return map[string]any{"roleName": r.ID}, nil
		})
		if err != nil {
			k.Missing("trust policy", err)
		}
	}
	var inline []string
	err := k.Call(ctx, "iam:List"+map[string]string{"user": "User", "role": "Role"}[kind]+"Policies", map[string]string{"Name": r.ID}, func() (any, error) {
		if kind == "user" {
			p := iam.NewListUserPoliciesPaginator(c.IAM, &iam.ListUserPoliciesInput{UserName: name})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				inline = append(inline, out.PolicyNames...)
			}
		} else {
			p := iam.NewListRolePoliciesPaginator(c.IAM, &iam.ListRolePoliciesInput{RoleName: name})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				inline = append(inline, out.PolicyNames...)
			}
		}
		return map[string]any{"policyNames": inline}, nil
	})
	if err != nil {
		k.Missing("inline policies", err)
	}
	docs := map[string]json.RawMessage{}
	for _, pn := range inline {
		pn := pn
		var action string
		var get func() (string, error)
		if kind == "user" {
			action = "iam:GetUserPolicy"
			get = func() (string, error) {
				out, err := c.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: name, PolicyName: aws.String(pn)})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.PolicyDocument), nil
			}
		} else {
			action = "iam:GetRolePolicy"
			get = func() (string, error) {
				out, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: name, PolicyName: aws.String(pn)})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.PolicyDocument), nil
			}
		}
		err := k.Call(ctx, action, map[string]string{"Name": r.ID, "PolicyName": pn}, func() (any, error) {
			d, err := get()
			if err != nil {
				return nil, err
			}
			docs[pn] = decodedPolicy(d)
			return map[string]any{"policyName": pn, "bytes": len(d)}, nil
		})
		if err != nil {
			k.Missing("inline policy "+pn, err)
		}
	}
	doc["inlinePolicies"] = docs
	attached := []map[string]string{}
	err = k.Call(ctx, "iam:ListAttached"+map[string]string{"user": "User", "role": "Role"}[kind]+"Policies", map[string]string{"Name": r.ID}, func() (any, error) {
		add := func(arn, pname *string) {
			attached = append(attached, map[string]string{"arn": aws.ToString(arn), "name": aws.ToString(pname)})
		}
		if kind == "user" {
			p := iam.NewListAttachedUserPoliciesPaginator(c.IAM, &iam.ListAttachedUserPoliciesInput{UserName: name})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				for _, ap := range out.AttachedPolicies {
					add(ap.PolicyArn, ap.PolicyName)
				}
			}
		} else {
			p := iam.NewListAttachedRolePoliciesPaginator(c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: name})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				for _, ap := range out.AttachedPolicies {
					add(ap.PolicyArn, ap.PolicyName)
				}
			}
		}
		return map[string]any{"attached": len(attached)}, nil
	})
	if err != nil {
		k.Missing("attached policies", err)
	}
	doc["attachedPolicies"] = attached
	return keepJSON(k, "policies.json", doc)
}
