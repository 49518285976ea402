package resource_test

import (
	"context"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/resource"
)

// clientActions is every IAM action the methods of resource.Clients'
// interfaces need, by reflection: each field is one service.
func clientActions() map[string]bool {
	out := map[string]bool{}
	ct := reflect.TypeFor[resource.Clients]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		iface := f.Type
		if iface.Kind() == reflect.Func {
			iface = iface.Out(0)
		}
		for j := range iface.NumMethod() {
			out[resource.ActionOf(strings.ToLower(f.Name), iface.Method(j).Name)] = true
		}
	}
	return out
}

var actionName = regexp.MustCompile(`^[a-z0-9]+:[A-Z][A-Za-z0-9]+$`)

// TestKinds walks the one list: every kind is declared completely, and the
// kinds' Calls and the clients' interfaces agree both ways.
func TestKinds(t *testing.T) {
	ctx := context.Background()
	api := clientActions()
	used := map[string]bool{}
	seen := map[string]bool{}
	var removable []resource.Kind
	for _, k := range resource.Kinds() {
		name := k.Type
		if !strings.HasPrefix(k.Type, "AWS::") || strings.Count(k.Type, "::") != 2 {
			t.Errorf("%q is not a CloudFormation-style type", k.Type)
		}
		if seen[k.Type] {
			t.Errorf("%s is declared twice", name)
		}
		seen[k.Type] = true
		if got, ok := resource.Lookup(k.Type); !ok || got.Type != k.Type {
			t.Errorf("Lookup(%s) = %v, %v", name, got.Type, ok)
		}
		if k.Title == "" || len(k.Events) == 0 || slices.Contains(k.Events, "") || k.Extract == nil || k.Check == nil {
			t.Errorf("%s lacks a title, its events, Extract or Check", name)
		}
		for _, c := range k.Calls {
			if !actionName.MatchString(c) {
				t.Errorf("%s: call %q is not service:Action", name, c)
			}
			if !api[c] {
				t.Errorf("%s declares %s, which no interface of resource.Clients has", name, c)
			}
			used[c] = true
		}
		// Every kind copes with missing clients: those it has a client for
		// say which one is missing and declare their calls; the others
		// cannot be checked and call nothing.
		state, reason := k.Check(ctx, &resource.Clients{}, &resource.Resource{Type: k.Type, ID: "x", Region: "eu-west-1", Details: map[string]string{}})
		switch {
		case state != resource.StateUnknown:
			t.Errorf("%s without clients is %s, want unknown", name, state)
		case strings.HasPrefix(reason, "no "):
			if len(k.Calls) == 0 {
				t.Errorf("%s checks with a client but declares no calls", name)
			}
		case strings.Contains(reason, "cannot check"):
			if len(k.Calls) > 0 || k.Removable() {
				t.Errorf("%s cannot be checked, yet declares calls or a removal", name)
			}
		default:
			t.Errorf("%s without clients: %q", name, reason)
		}
		if !k.Removable() {
			if k.Apply != nil || k.Done != nil || k.RemovedBy != "" || k.RemovedWith != nil || k.NotRemovable == "" {
				t.Errorf("%s is not removable: it needs NotRemovable (why) and no Apply, Done, RemovedBy or RemovedWith", name)
			}
			continue
		}
		removable = append(removable, k)
		if k.Apply == nil || k.Done == nil || k.RemovedBy == "" || k.NotRemovable != "" {
			t.Errorf("%s is removable: it needs Apply, Done and RemovedBy, and no NotRemovable", name)
		}
		if _, err := k.Plan(ctx, &resource.Clients{}, resource.Resource{Type: k.Type, ID: "x", Region: "eu-west-1", Details: map[string]string{}}); err == nil {
			t.Errorf("%s planned a removal without clients", name)
		}
		if k.RemovedWith != nil {
			typ, _ := k.RemovedWith(resource.Resource{Type: k.Type, Details: map[string]string{}})
			if !resource.Removable(typ) {
				t.Errorf("%s goes with a %s, which keyleak does not remove", name, typ)
			}
		}
	}
	for a := range api {
		if !used[a] {
			t.Errorf("resource.Clients has %s, which no kind declares", a)
		}
	}
	if len(removable) == 0 {
		t.Fatal("no removable kind")
	}
	// The removal order's reasons: the request that would start instances
	// again before the instances, instances before what they use, a rule
	// before its group, keys and passwords before their user, IAM last.
	before := func(a, b string) {
		if resource.Order(a) >= resource.Order(b) {
			t.Errorf("%s must be removed before %s", a, b)
		}
	}
	before(resource.TypeSpotRequest, resource.TypeInstance)
	before(resource.TypeInstance, resource.TypeSecurityGroup)
	before(resource.TypeInstance, resource.TypeKeyPair)
	before(resource.TypeIngressRule, resource.TypeSecurityGroup)
	before(resource.TypeAccessKey, resource.TypeUser)
	before(resource.TypeLoginProfile, resource.TypeUser)
	for _, k := range removable {
		for _, g := range removable {
			if !k.Global && g.Global {
				before(k.Type, g.Type)
			}
		}
	}
	if resource.Order("AWS::Nothing::Here") != -1 || resource.Removable("AWS::Nothing::Here") {
		t.Error("an unknown type has an order or is removable")
	}
}

// The eradicate step's calls are those of the removable kinds.
func TestCallsOfRemovableKinds(t *testing.T) {
	all, rm := resource.Calls(false), resource.Calls(true)
	if !slices.Contains(rm, "ec2:TerminateInstances") || !slices.Contains(rm, "iam:DeleteUser") {
		t.Errorf("removable calls %v lack the removals", rm)
	}
	if slices.Contains(rm, "s3:ListBucket") || !slices.Contains(all, "s3:ListBucket") {
		t.Errorf("the bucket, which keyleak only checks: removable %v, all %v", rm, all)
	}
	for _, c := range rm {
		if !slices.Contains(all, c) {
			t.Errorf("%s is a removal call but not a call", c)
		}
	}
}

func TestCheckUnknownType(t *testing.T) {
	state, reason := resource.Check(context.Background(), &resource.Clients{}, &resource.Resource{Type: "AWS::Nothing::Here", Region: "eu-west-1"})
	if state != resource.StateUnknown || !strings.Contains(reason, "cannot check AWS::Nothing::Here") || !strings.Contains(reason, "eu-west-1") {
		t.Errorf("unknown type: %s %q", state, reason)
	}
}
