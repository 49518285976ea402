package assess

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// Resource types keyleak finds in create events (CloudFormation style).
const (
	TypeInstance        = "AWS::EC2::Instance"
	TypeSpotRequest     = "AWS::EC2::SpotInstanceRequest"
	TypeKeyPair         = "AWS::EC2::KeyPair"
	TypeSecurityGroup   = "AWS::EC2::SecurityGroup"
	TypeIngressRule     = "AWS::EC2::SecurityGroupIngress"
	TypeSnapshotShare   = "AWS::EC2::SnapshotPermission"
	TypeImageShare      = "AWS::EC2::ImagePermission"
	TypeUser            = "AWS::IAM::User"
	TypeAccessKey       = "AWS::IAM::AccessKey"
	TypeLoginProfile    = "AWS::IAM::LoginProfile"
	TypeRole            = "AWS::IAM::Role"
	TypePolicy          = "AWS::IAM::ManagedPolicy"
	TypeFunction        = "AWS::Lambda::Function"
	TypeECSCluster      = "AWS::ECS::Cluster"
	TypeECSService      = "AWS::ECS::Service"
	TypeNotebook        = "AWS::SageMaker::NotebookInstance"
	TypeLightsail       = "AWS::Lightsail::Instance"
	TypeBucket          = "AWS::S3::Bucket"
	TypeCodeBuild       = "AWS::CodeBuild::Project"
	TypeGlueDevEndpoint = "AWS::Glue::DevEndpoint"
)

// Live states of a resource, as Inventory finds them.
const (
	StatePresent = "present"
	StateGone    = "gone"
	StateUnknown = "unknown"
)

// Resource is an object a key of the chain created (or, for shares, opened
// up), as found in the successful create call's request and response.
type Resource struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"`
	Region    string    `json:"region"` // us-east-1 for IAM
	CreatedBy string    `json:"createdBy"`
	EventID   string    `json:"eventID"`
	EventName string    `json:"eventName"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Verdict is that of the creating event: resources the workload made
	// stay out of eradication unless chosen.
	Verdict Verdict `json:"verdict"`
	// Details are what removal needs besides the ID: the user of an access
	// key or login profile, the group and rule of an ingress permission.
	Details map[string]string `json:"details,omitempty"`
	// State is present, gone or unknown once Inventory ran ("" before);
	// StateReason says why for gone and unknown.
	State       string `json:"state,omitempty"`
	StateReason string `json:"stateReason,omitempty"`
}

// Key identifies the resource: type, region and ID.
func (r Resource) Key() string { return r.Type + "|" + r.Region + "|" + r.ID }

// globalRegion is where IAM lives.
const globalRegion = "us-east-1"

// extractResources reads the resources the chain's successful calls made.
func (a *Assessment) extractResources(events []*trail.Event) []Resource {
	seen := map[string]bool{}
	var out []Resource
	for _, e := range events {
		if e.ErrorCode != "" {
			continue
		}
		verdict := Unclear
		if ea, ok := a.Event(e.Key()); ok {
			verdict = ea.Verdict
		}
		for _, r := range resourcesOf(e) {
			r.CreatedBy, r.EventID, r.EventName, r.CreatedAt, r.Verdict = e.UserIdentity.AccessKeyID, e.EventID, e.EventName, e.EventTime, verdict
			if r.Region == "" {
				r.Region = e.Region
			}
			if r.ID == "" || seen[r.Key()] {
				continue
			}
			seen[r.Key()] = true
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Key() < out[j].Key()
	})
	if out == nil {
		out = []Resource{}
	}
	return out
}

// resourcesOf returns what one successful call created.
func resourcesOf(e *trail.Event) []Resource {
	one := func(typ, id string, details map[string]string) []Resource {
		return []Resource{{Type: typ, ID: id, Details: details}}
	}
	iam := func(typ, id string, details map[string]string) []Resource {
		return []Resource{{Type: typ, ID: id, Region: globalRegion, Details: details}}
	}
	str := func(s ...string) string {
		for _, v := range s {
			if v != "" {
				return v
			}
		}
		return ""
	}
	switch e.EventName {
	case "RunInstances":
		var out []Resource
		for _, it := range items(e.Response("instancesSet")) {
			if id := field(it, "instanceId"); id != "" {
				out = append(out, Resource{Type: TypeInstance, ID: id, Details: map[string]string{"instanceType": field(it, "instanceType")}})
			}
		}
		return out
	case "RequestSpotInstances":
		var out []Resource
		for _, it := range items(e.Response("spotInstanceRequestSet")) {
			if id := field(it, "spotInstanceRequestId"); id != "" {
				out = append(out, Resource{Type: TypeSpotRequest, ID: id})
			}
		}
		return out
	case "CreateKeyPair", "ImportKeyPair":
		return one(TypeKeyPair, str(e.ResponseString("keyName"), e.RequestString("keyName")), nil)
	case "CreateSecurityGroup":
		return one(TypeSecurityGroup, e.ResponseString("groupId"), map[string]string{"groupName": e.RequestString("groupName")})
	case "AuthorizeSecurityGroupIngress":
		return ingressRules(e)
	case "ModifySnapshotAttribute", "ModifyImageAttribute":
		return shares(e)
	case "CreateUser":
		return iam(TypeUser, str(e.ResponseString("user", "userName"), e.RequestString("userName")), nil)
	case "CreateAccessKey":
		id := e.ResponseString("accessKey", "accessKeyId")
		user := str(e.ResponseString("accessKey", "userName"), e.RequestString("userName"), e.UserIdentity.UserName)
		return iam(TypeAccessKey, id, map[string]string{"userName": user})
	case "CreateLoginProfile":
		user := str(e.RequestString("userName"), e.ResponseString("loginProfile", "userName"), e.UserIdentity.UserName)
		return iam(TypeLoginProfile, user, map[string]string{"userName": user})
	case "CreateRole":
		return iam(TypeRole, str(e.ResponseString("role", "roleName"), e.RequestString("roleName")), nil)
	case "CreatePolicy":
		return iam(TypePolicy, e.ResponseString("policy", "arn"), nil)
	case "CreateFunction20150331", "CreateFunction":
		return one(TypeFunction, str(e.ResponseString("functionName"), e.RequestString("functionName")), nil)
	case "CreateCluster":
		if e.EventSource == "ecs.amazonaws.com" {
			return one(TypeECSCluster, str(e.ResponseString("cluster", "clusterName"), e.RequestString("clusterName")), nil)
		}
	case "CreateService":
		if e.EventSource == "ecs.amazonaws.com" {
			return one(TypeECSService, e.ResponseString("service", "serviceArn"), map[string]string{"cluster": e.RequestString("cluster")})
		}
	case "CreateNotebookInstance":
		return one(TypeNotebook, e.RequestString("notebookInstanceName"), nil)
	case "CreateInstances":
		if e.EventSource == "lightsail.amazonaws.com" {
			var out []Resource
			var names []string
			if json.Unmarshal(e.Request("instanceNames"), &names) == nil {
				for _, n := range names {
					out = append(out, Resource{Type: TypeLightsail, ID: n})
				}
			}
			return out
		}
	case "CreateBucket":
		return one(TypeBucket, e.RequestString("bucketName"), nil)
	case "CreateProject":
		if e.EventSource == "codebuild.amazonaws.com" {
			return one(TypeCodeBuild, e.RequestString("name"), nil)
		}
	case "CreateDevEndpoint":
		return one(TypeGlueDevEndpoint, e.RequestString("endpointName"), nil)
	}
	return nil
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
		out = append(out, Resource{Type: TypeIngressRule, ID: field(it, "securityGroupRuleId"), Details: map[string]string{
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
			out = append(out, Resource{Type: TypeIngressRule, ID: fmt.Sprintf("%s/%s/%s-%s/%s", group, d["protocol"], d["fromPort"], d["toPort"], cidr), Details: d})
		}
	}
	return out
}

// shares reads who a snapshot or image was shared with.
func shares(e *trail.Event) []Resource {
	typ, idKey, permKey := TypeSnapshotShare, "snapshotId", "createVolumePermission"
	if e.EventName == "ModifyImageAttribute" {
		typ, idKey, permKey = TypeImageShare, "imageId", "launchPermission"
	}
	id := e.RequestString(idKey)
	var out []Resource
	for _, it := range items(e.Request(permKey, "add")) {
		who := field(it, "userId")
		if who == "" {
			who = field(it, "group")
		}
		if who != "" {
			out = append(out, Resource{Type: typ, ID: id + "/" + who, Details: map[string]string{idKey: id, "sharedWith": who}})
		}
	}
	return out
}

// items returns the elements of a CloudTrail set: {"items":[...]} or a
// plain array.
func items(raw json.RawMessage) []json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '{' {
		var w struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(raw, &w) != nil {
			return nil
		}
		return w.Items
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	return arr
}

// field returns an object's scalar field as text.
func field(raw json.RawMessage, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	v := m[name]
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	if v[0] == '{' || v[0] == '[' {
		return ""
	}
	return strings.TrimSpace(string(v))
}

// Target returns the resource as the eradicate step takes it.
func (r Resource) Target() playbook.Target {
	return playbook.Target{Type: r.Type, ID: r.ID, Region: r.Region, Details: cloneMap(r.Details)}
}

// Targets returns the resources to offer for removal: those still present
// (or of unknown state) that the attacker created, or every such resource
// whatever its creator when all is set. Types keyleak cannot remove are
// left out; the report lists them with their state.
func Targets(resources []Resource, all bool) []playbook.Target {
	var out []playbook.Target
	for _, r := range resources {
		if r.State == StateGone || (!all && r.Verdict != Attacker) || !playbook.Removable(r.Type) {
			continue
		}
		out = append(out, r.Target())
	}
	return out
}
