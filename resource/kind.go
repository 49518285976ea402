package resource

import (
	"context"
	"slices"
	"sync"

	"github.com/keyleak/keyleak/trail"
)

// Kind is everything keyleak knows about one type of resource, declared in
// one file.
type Kind struct {
	// Type is the CloudFormation-style type, e.g. AWS::EC2::Instance.
	Type string
	// Title names the kind for people: "EC2 instance".
	Title string
	// Global kinds (IAM) live in us-east-1 whatever region logged the
	// event.
	Global bool
	// Events are the CloudTrail event names that create the kind; Extract
	// is called with the successful ones.
	Events []string
	// Extract returns what one successful event created. Type and Region
	// may be left empty: they are the kind's type and the event's region
	// (us-east-1 for global kinds). A resource without an ID is dropped.
	Extract func(e *trail.Event) []Resource
	// Check reads the resource's live state: present, gone or unknown,
	// and why.
	Check func(ctx context.Context, c *Clients, r *Resource) (state, reason string)
	// Calls is every AWS action (IAM action names, "ec2:TerminateInstances")
	// that Check, Plan, Apply and Done may make.
	Calls []string

	// Removal: a kind keyleak removes has Plan, Apply and Done; one it does
	// not has none of them and says why in NotRemovable.

	// Plan returns the exact calls that remove r, reading the live state
	// where the calls depend on it (a user's keys and policies). A
	// resource already gone plans nothing.
	Plan func(ctx context.Context, c *Clients, r Resource) ([]Call, error)
	// Apply makes the one AWS call of a planned removal and returns AWS's
	// response, for the journal. An object found already gone is a
	// *GoneError. The playbook journals the call before and after.
	Apply func(ctx context.Context, c *Clients, call Call) (any, error)
	// Done reads whether a removal took effect, to reconcile one that an
	// interrupted run left without an outcome.
	Done func(ctx context.Context, c *Clients, call Call) (bool, error)
	// RemovedBy names the removal in the report, e.g. "ec2:TerminateInstances".
	RemovedBy string
	// RemovedWith, when set, names the resource whose removal takes this
	// one with it (an access key with its user, an ingress rule with its
	// group): chosen together, only that one is removed.
	RemovedWith func(r Resource) (typ, id string)
	// NotRemovable says why keyleak leaves the kind to the responder.
	NotRemovable string

	// Evidence, when set, keeps what the responder must have of a resource
	// before it is removed (an instance's volumes, console output and user
	// data; a function's code; policy documents) through the Keeper, which
	// journals each call and writes each file into the case. Its calls are
	// in Calls.
	Evidence func(ctx context.Context, c *Clients, r Resource, k Keeper) error
}

// Removable tells whether keyleak removes resources of the kind.
func (k Kind) Removable() bool { return k.Plan != nil }

// Kinds returns every resource kind, in removal order. Logging and
// detection come back first (a trail started, a detector enabled), so that
// everything after is recorded; then what runs and costs, the things that
// start instances again before the instances (Auto Scaling groups, fleets,
// spot requests; ECS services before their tasks, node groups before
// their cluster; instances, which hold security groups and key pairs in
// use); then ways in and out of the account; IAM last, so that a responder
// who stops halfway has stopped the spending first. It is the one list:
// extraction, the live checks, eradication, the report and the responder
// policy all derive from it.
func Kinds() []Kind {
	return []Kind{
		trailStoppedKind(),
		trailDeletedKind(),
		detectorDisabledKind(),
		detectorDeletedKind(),
		autoScalingGroupKind(),
		spotFleetKind(),
		ec2FleetKind(),
		spotRequestKind(),
		batchComputeEnvironmentKind(),
		eksNodegroupKind(),
		eksClusterKind(),
		ecsServiceKind(),
		ecsTaskKind(),
		ecsClusterKind(),
		instanceKind(),
		launchTemplateKind(),
		lightsailKind(),
		notebookKind(),
		sageMakerEndpointKind(),
		trainingJobKind(),
		codeBuildKind(),
		glueDevEndpointKind(),
		glueJobKind(),
		modelAgreementKind(),
		invocationLoggingKind(),
		sesSendingKind(),
		sesIdentityKind(),
		functionURLKind(),
		functionPermissionKind(),
		functionKind(),
		ingressRuleKind(),
		securityGroupKind(),
		keyPairKind(),
		snapshotShareKind(),
		imageShareKind(),
		bucketPublicKind(),
		bucketKind(),
		leftOrganizationKind(),
		accessKeyKind(),
		loginProfileKind(),
		userKind(),
		roleKind(),
		oidcProviderKind(),
		samlProviderKind(),
		policyKind(),
	}
}

// registry is Kinds, indexed once.
var registry = sync.OnceValue(func() struct {
	kinds   []Kind
	byType  map[string]int
	byEvent map[string][]int
} {
	r := struct {
		kinds   []Kind
		byType  map[string]int
		byEvent map[string][]int
	}{kinds: Kinds(), byType: map[string]int{}, byEvent: map[string][]int{}}
	for i, k := range r.kinds {
		r.byType[k.Type] = i
		for _, ev := range k.Events {
			r.byEvent[ev] = append(r.byEvent[ev], i)
		}
	}
	return r
})

// Lookup returns the kind of a type.
func Lookup(typ string) (Kind, bool) {
	r := registry()
	i, ok := r.byType[typ]
	if !ok {
		return Kind{}, false
	}
	return r.kinds[i], true
}

// Removable tells whether keyleak removes resources of the type.
func Removable(typ string) bool {
	k, ok := Lookup(typ)
	return ok && k.Removable()
}

// Order is the type's place in the removal order, -1 for a type keyleak
// does not know.
func Order(typ string) int {
	i, ok := registry().byType[typ]
	if !ok {
		return -1
	}
	return i
}

// Extract returns what one successful event created, with Type and Region
// filled in. The caller sets who made it.
func Extract(e *trail.Event) []Resource {
	r := registry()
	var out []Resource
	for _, i := range r.byEvent[e.EventName] {
		k := r.kinds[i]
		for _, res := range k.Extract(e) {
			if res.Type == "" {
				res.Type = k.Type
			}
			switch {
			case k.Global:
				res.Region = GlobalRegion
			case res.Region == "":
				res.Region = e.Region
			}
			out = append(out, res)
		}
	}
	return out
}

// Calls returns every AWS action of the kinds, removable ones only when
// removable is set, in the order of Kinds, each once, with the actions a
// call needs besides its own (impliedActions).
func Calls(removable bool) []string {
	var out []string
	for _, k := range registry().kinds {
		if removable && !k.Removable() {
			continue
		}
		for _, c := range k.Calls {
			for _, a := range append([]string{c}, impliedActions[c]...) {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// Check reads a resource's live state with its kind's Check; a type keyleak
// does not know is unknown, with where to look.
func Check(ctx context.Context, c *Clients, r *Resource) (state, reason string) {
	k, ok := Lookup(r.Type)
	if !ok {
		return cannotCheck(ctx, c, r)
	}
	return k.Check(ctx, c, r)
}
