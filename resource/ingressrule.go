package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeIngressRule is a permission AuthorizeSecurityGroupIngress opened in a
// security group, often SSH from anywhere. It goes with its group when the
// group is removed too.
const TypeIngressRule = "AWS::EC2::SecurityGroupIngress"

func ingressRuleKind() Kind {
	return Kind{
		Type:    TypeIngressRule,
		Title:   "security group ingress rule",
		Events:  []string{"AuthorizeSecurityGroupIngress"},
		Extract: ingressRules,
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			group := r.Details["groupId"]
			out, err := c.EC2(r.Region).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{group}})
			if err != nil {
				state, reason := fromErr(err, groupNotFound...)
				if state == StateGone {
					reason = "its security group " + group + " is gone"
				}
				return state, reason
			}
			for _, sg := range out.SecurityGroups {
				for _, p := range sg.IpPermissions {
					if permissionMatches(p, r.Details) {
						return StatePresent, ""
					}
				}
			}
			return StateGone, "the rule is no longer in " + group
		},
		Calls:     []string{"ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress"},
		RemovedBy: "ec2:RevokeSecurityGroupIngress",
		RemovedWith: func(r Resource) (string, string) {
			return TypeSecurityGroup, r.Details["groupId"]
		},
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			d := r.Details
			p := map[string]string{"GroupId": d["groupId"], "Protocol": d["protocol"], "FromPort": d["fromPort"], "ToPort": d["toPort"], "Cidr": d["cidr"], "RuleId": r.ID}
			// A rule that cannot be rebuilt fails here, before anything is
			// journaled or asked.
			if _, err := ingressPermission(p); err != nil {
				return nil, err
			}
			desc := fmt.Sprintf("ec2 revoke-security-group-ingress --region %s --group-id %s --ip-permissions IpProtocol=%s,FromPort=%s,ToPort=%s,IpRanges=[{CidrIp=%s}]",
				r.Region, d["groupId"], d["protocol"], d["fromPort"], d["toPort"], d["cidr"])
			return []Call{newCall("ec2", "RevokeSecurityGroupIngress", r.Region, p, desc, r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			p := call.Params
			perm, err := ingressPermission(p)
			if err != nil {
				return nil, err
			}
			out, err := c.EC2(call.Region()).RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
				GroupId: aws.String(p["GroupId"]), IpPermissions: []ec2types.IpPermission{perm}})
			return out, removed(err, "the rule of "+p["GroupId"], append([]string{"InvalidPermission.NotFound"}, groupNotFound...)...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			p := call.Params
			out, err := c.EC2(call.Region()).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p["GroupId"]}})
			if err != nil {
				return absent(call, err, groupNotFound...)
			}
			for _, sg := range out.SecurityGroups {
				for _, perm := range sg.IpPermissions {
					if aws.ToString(perm.IpProtocol) == p["Protocol"] && portIs(perm.FromPort, p["FromPort"]) && portIs(perm.ToPort, p["ToPort"]) &&
						slices.ContainsFunc(perm.IpRanges, func(r ec2types.IpRange) bool { return aws.ToString(r.CidrIp) == p["Cidr"] }) {
						return false, nil
					}
				}
			}
			return true, nil
		},
	}
}

// ingressRules reads the permissions an AuthorizeSecurityGroupIngress
// opened: from the response's rule set (rule IDs), else from the request.
func ingressRules(e *trail.Event) []Resource {
	group := e.RequestString("groupId")
	var out []Resource
	for _, it := range items(e.Response("securityGroupRuleSet")) {
		cidr := field(it, "cidrIpv4")
		if cidr == "" {
			cidr = field(it, "cidrIpv6")
		}
		g := field(it, "groupId")
		if g == "" {
			g = group
		}
		out = append(out, Resource{ID: field(it, "securityGroupRuleId"), Details: map[string]string{
			"groupId": g, "protocol": field(it, "ipProtocol"), "fromPort": field(it, "fromPort"), "toPort": field(it, "toPort"), "cidr": cidr}})
	}
	if len(out) > 0 || group == "" {
		return out
	}
	for _, p := range items(e.Request("ipPermissions")) {
		var perm map[string]json.RawMessage
		if json.Unmarshal(p, &perm) != nil {
			continue
		}
		for _, r := range items(perm["ipRanges"]) {
			cidr := field(r, "cidrIp")
			d := map[string]string{"groupId": group, "protocol": field(p, "ipProtocol"), "fromPort": field(p, "fromPort"), "toPort": field(p, "toPort"), "cidr": cidr}
			out = append(out, Resource{ID: fmt.Sprintf("%s/%s/%s-%s/%s", group, d["protocol"], d["fromPort"], d["toPort"], cidr), Details: d})
		}
	}
	return out
}

// permissionMatches tells whether an ingress permission holds the rule
// described by details (protocol, ports, CIDR).
func permissionMatches(p ec2types.IpPermission, d map[string]string) bool {
	proto := aws.ToString(p.IpProtocol)
	if proto != d["protocol"] && !(proto == "-1" && (d["protocol"] == "all" || d["protocol"] == "-1")) {
		return false
	}
	if d["fromPort"] != "" && d["fromPort"] != strconv.Itoa(int(aws.ToInt32(p.FromPort))) {
		return false
	}
	if d["toPort"] != "" && d["toPort"] != strconv.Itoa(int(aws.ToInt32(p.ToPort))) {
		return false
	}
	for _, r := range p.IpRanges {
		if aws.ToString(r.CidrIp) == d["cidr"] {
			return true
		}
	}
	for _, r := range p.Ipv6Ranges {
		if aws.ToString(r.CidrIpv6) == d["cidr"] {
			return true
		}
	}
	return false
}

// ingressPermission rebuilds the permission to revoke from the call.
func ingressPermission(p map[string]string) (ec2types.IpPermission, error) {
	perm := ec2types.IpPermission{IpProtocol: aws.String(p["Protocol"])}
	for _, f := range []struct {
		name string
		dst  **int32
	}{{"FromPort", &perm.FromPort}, {"ToPort", &perm.ToPort}} {
		if v := p[f.name]; v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return perm, fmt.Errorf("revoke ingress: %s %q is not a port", f.name, v)
			}
			*f.dst = aws.Int32(int32(n))
		}
	}
	if cidr := p["Cidr"]; strings.Contains(cidr, ":") {
		perm.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(cidr)}}
	} else {
		perm.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr)}}
	}
	return perm, nil
}

func portIs(p *int32, want string) bool {
	return want == "" || strconv.Itoa(int(aws.ToInt32(p))) == want
}
