package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsclitest"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
)

// awsCLIFails runs the AWS CLI and returns its error output when it fails,
// "" when it succeeds: for the describe calls that answer a removed object
// with a not-found error.
func awsCLIFails(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	none := filepath.Join(t.TempDir(), "none")
	res, err := awsclitest.Run(ctx, append([]string{"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none}, envList(env)...),
		append(args, "--output", "json")...)
	switch {
	case err != nil:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	case res.Code != 0 && len(res.Stderr) == 0:
		t.Fatalf("aws %s: exit %d and no message", strings.Join(args, " "), res.Code)
	case res.Code != 0:
		return string(res.Stderr)
	}
	return ""
}

// stillThere asks the AWS CLI, an independent client, whether a resource of
// the every-kind scenario is still there (or a change still in effect). It
// returns what the CLI said for the failure message, "" when the resource
// is gone.
func stillThere(t *testing.T, env map[string]string, r awssim.TruthResource) string {
	t.Helper()
	env = withEnv(env, "AWS_REGION", r.Region, "AWS_DEFAULT_REGION", r.Region)
	gone := func(args ...string) string {
		if msg := awsCLIFails(t, env, args...); msg == "" {
			return "aws " + strings.Join(args, " ") + " still answers"
		} else if !strings.Contains(msg, "NotFound") && !strings.Contains(msg, "NoSuchEntity") && !strings.Contains(msg, "not found") &&
			!strings.Contains(msg, "RecordNotFound") && !strings.Contains(msg, "Could not find") && !strings.Contains(msg, "does not exist") {
			t.Errorf("aws %s failed otherwise: %s", strings.Join(args, " "), msg)
		}
		return ""
	}
	var out map[string]any
	show := func(args ...string) map[string]any {
		out = map[string]any{}
		awsCLI(t, env, &out, args...)
		return out
	}
	has := func(v any, s string) bool { b, _ := json.Marshal(v); return strings.Contains(string(b), s) }
	switch r.Type {
	case resource.TypeTrailStopped:
		if show("cloudtrail", "get-trail-status", "--name", r.ID)["IsLogging"] != true {
			return "trail " + r.ID + " is not logging"
		}
	case resource.TypeDetectorDisabled:
		if show("guardduty", "get-detector", "--detector-id", r.ID)["Status"] != "ENABLED" {
			return "detector " + r.ID + " is not enabled"
		}
	case resource.TypeAutoScalingGroup:
		if has(show("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", r.ID)["AutoScalingGroups"], r.ID) {
			return "group " + r.ID + " is listed"
		}
	case resource.TypeSpotFleet:
		if has(show("ec2", "describe-spot-fleet-requests", "--spot-fleet-request-ids", r.ID), `"active"`) {
			return "spot fleet " + r.ID + " is active"
		}
	case resource.TypeEC2Fleet:
		if has(show("ec2", "describe-fleets", "--fleet-ids", r.ID), `"active"`) {
			return "fleet " + r.ID + " is active"
		}
	case resource.TypeSpotRequest:
		if out := show("ec2", "describe-spot-instance-requests", "--spot-instance-request-ids", r.ID); has(out, `"open"`) || has(out, `"active"`) {
			return "spot request " + r.ID + " is open or active"
		}
	case resource.TypeBatchComputeEnvironment:
		if has(show("batch", "describe-compute-environments", "--compute-environments", r.ID)["computeEnvironments"], r.ID) {
			return "compute environment " + r.ID + " is listed"
		}
	case resource.TypeEKSNodegroup:
		cluster, ng, _ := strings.Cut(r.ID, "/")
		return gone("eks", "describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", ng)
	case resource.TypeEKSCluster:
		return gone("eks", "describe-cluster", "--name", r.ID)
	case resource.TypeECSService:
		parts := strings.Split(r.ID, "/")
		// With its cluster deleted, ECS knows none of its services or tasks.
		if strings.Contains(awsCLIFails(t, env, "ecs", "describe-clusters", "--clusters", parts[len(parts)-2]), "ClusterNotFound") ||
			!has(show("ecs", "describe-clusters", "--clusters", parts[len(parts)-2])["clusters"], `"ACTIVE"`) {
			return ""
		}
		if has(show("ecs", "describe-services", "--cluster", parts[len(parts)-2], "--services", r.ID)["services"], `"ACTIVE"`) {
			return "service " + r.ID + " is active"
		}
	case resource.TypeECSTask:
		parts := strings.Split(r.ID, "/")
		if !has(show("ecs", "describe-clusters", "--clusters", parts[len(parts)-2])["clusters"], `"ACTIVE"`) {
			return ""
		}
		if !has(show("ecs", "describe-tasks", "--cluster", parts[len(parts)-2], "--tasks", r.ID)["tasks"], `"STOPPED"`) {
			return "task " + r.ID + " is not stopped"
		}
	case resource.TypeECSCluster:
		if has(show("ecs", "describe-clusters", "--clusters", r.ID)["clusters"], `"ACTIVE"`) {
			return "cluster " + r.ID + " is active"
		}
	case resource.TypeInstance:
		if has(show("ec2", "describe-instances", "--instance-ids", r.ID), `"running"`) {
			return "instance " + r.ID + " is running"
		}
	case resource.TypeLaunchTemplate:
		return gone("ec2", "describe-launch-templates", "--launch-template-ids", r.ID)
	case resource.TypeLightsail:
		return gone("lightsail", "get-instance", "--instance-name", r.ID)
	case resource.TypeNotebook:
		return gone("sagemaker", "describe-notebook-instance", "--notebook-instance-name", r.ID)
	case resource.TypeSageMakerEndpoint:
		return gone("sagemaker", "describe-endpoint", "--endpoint-name", r.ID)
	case resource.TypeTrainingJob:
		if st := show("sagemaker", "describe-training-job", "--training-job-name", r.ID)["TrainingJobStatus"]; st == "InProgress" {
			return "training job " + r.ID + " is in progress"
		}
	case resource.TypeCodeBuild:
		if has(show("codebuild", "batch-get-projects", "--names", r.ID)["projects"], r.ID) {
			return "project " + r.ID + " is listed"
		}
	case resource.TypeGlueDevEndpoint:
		return gone("glue", "get-dev-endpoint", "--endpoint-name", r.ID)
	case resource.TypeGlueJob:
		return gone("glue", "get-job", "--job-name", r.ID)
	case resource.TypeModelAgreement:
		if has(show("bedrock", "get-foundation-model-availability", "--model-id", r.ID)["agreementAvailability"], `"AVAILABLE"`) {
			return "agreement for " + r.ID + " is available"
		}
	case resource.TypeSESSending:
		if show("ses", "get-account-sending-enabled")["Enabled"] == true {
			return "SES sending is enabled"
		}
	case resource.TypeSESIdentity:
		if has(show("ses", "get-identity-verification-attributes", "--identities", r.ID)["VerificationAttributes"], r.ID) {
			return "identity " + r.ID + " is listed"
		}
	case resource.TypeFunctionURL:
		return gone("lambda", "get-function-url-config", "--function-name", r.ID)
	case resource.TypeFunctionPermission:
		fn, sid, _ := strings.Cut(r.ID, "/")
		if msg := awsCLIFails(t, env, "lambda", "get-policy", "--function-name", fn); msg == "" && has(show("lambda", "get-policy", "--function-name", fn), sid) {
			return "statement " + sid + " is in " + fn + "'s policy"
		}
	case resource.TypeFunction:
		return gone("lambda", "get-function", "--function-name", r.ID)
	case resource.TypeSecurityGroup:
		if has(show("ec2", "describe-security-groups"), r.ID) {
			return "group " + r.ID + " is listed"
		}
	case resource.TypeKeyPair:
		if has(show("ec2", "describe-key-pairs"), `"`+r.ID+`"`) {
			return "key pair " + r.ID + " is listed"
		}
	case resource.TypeSnapshotShare, resource.TypeImageShare:
		id, who, _ := strings.Cut(r.ID, "/")
		args := []string{"ec2", "describe-snapshot-attribute", "--snapshot-id", id, "--attribute", "createVolumePermission"}
		if r.Type == resource.TypeImageShare {
			args = []string{"ec2", "describe-image-attribute", "--image-id", id, "--attribute", "launchPermission"}
		}
		if has(show(args...), who) {
			return id + " is still shared with " + who
		}
	case resource.TypeBucketPublic:
		if !has(show("s3api", "get-public-access-block", "--bucket", r.ID), `"RestrictPublicBuckets":true`) {
			return "bucket " + r.ID + " is not restricted"
		}
	case resource.TypeAccessKey:
		if has(show("iam", "list-access-keys", "--user-name", "ops"), r.ID) || has(show("iam", "list-users"), "svc-backup") {
			return "key " + r.ID + " is listed"
		}
	case resource.TypeUser:
		return gone("iam", "get-user", "--user-name", r.ID)
	case resource.TypeRole:
		return gone("iam", "get-role", "--role-name", r.ID)
	case resource.TypeOIDCProvider:
		return gone("iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", r.ID)
	case resource.TypeSAMLProvider:
		return gone("iam", "get-saml-provider", "--saml-provider-arn", r.ID)
	default:
		t.Errorf("no AWS CLI check for %s %s", r.Type, r.ID)
	}
	return ""
}

// withEnv returns a copy of env with the pairs set.
func withEnv(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestEradicateEveryKind: the every-kind scenario's attacker made one of
// every kind keyleak knows, in three regions. contain, investigate, then
// eradicate --apply --yes --only with every target: the AWS CLI finds none
// of them left, what keyleak cannot undo is still listed for the
// responder, and a second run changes nothing.
func TestEradicateEveryKind(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	srv := serveScenario(t, "every-kind", awssim.WithLookupRate(50, 50))
	sim := srv.Sim
	r := sim.Responder()
	env := simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	dir := t.TempDir()
	key := sim.LeakedKey()
	if code, _, errOut := run(t, "contain", "--key", key, "--yes", "--dir", dir); code != ExitOK {
		t.Fatalf("contain: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "investigate", "--key", key, "--dir", dir, "--lookup-rate", "40", "--leaked-at", "2h1m"); code != ExitOK {
		t.Fatalf("investigate: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-"+key+"-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	caseDir := cases[0]

	var f assess.Findings
	b, err := os.ReadFile(filepath.Join(caseDir, playbook.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	// Every kind is found (the managed policy aside, whose call the
	// simulator does not serve), in the three regions.
	kinds, regions := map[string]bool{}, map[string]bool{}
	for _, res := range f.Resources {
		kinds[res.Type] = true
		regions[res.Region] = true
	}
	for _, k := range resource.Kinds() {
		if !kinds[k.Type] && k.Type != resource.TypePolicy {
			t.Errorf("the findings list no %s", k.Type)
		}
	}
	for _, res := range f.Resources {
		if res.Verdict != assess.Attacker {
			t.Errorf("%s %s: verdict %s, want attacker", res.Type, res.ID, res.Verdict)
		}
	}
	for _, reg := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		if !regions[reg] {
			t.Errorf("the findings list nothing in %s", reg)
		}
	}

	var ids []string
	targets := assess.Targets(f.Resources, false)
	for _, tg := range targets {
		ids = append(ids, tg.Key())
	}
	code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", strings.Join(ids, ","))
	if code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}

	// Evidence was kept before each instance and function went, in
	// every region.
	kept := 0
	for _, tg := range targets {
		if tg.Type != resource.TypeInstance && tg.Type != resource.TypeFunction {
			continue
		}
		if _, err := os.Stat(filepath.Join(caseDir, playbook.EvidencePath(tg), playbook.ManifestFile)); err != nil {
			t.Errorf("no evidence kept for %s: %v", tg.Key(), err)
		}
		kept++
	}
	if kept == 0 {
		t.Error("the scenario removed no instance or function")
	}

	// Through the AWS CLI: nothing removable of the attacker's is left.
	var left []string
	for _, tr := range sim.Truth().Resources {
		if !tr.Attacker || !tr.Present() {
			continue
		}
		k, ok := resource.Lookup(tr.Type)
		switch {
		case !ok:
			// Not a kind keyleak knows: made with the attacker's calls
			// (the default group's rules are the group's, not separate).
			continue
		case !k.Removable():
			// What keyleak leaves to the responder is still there, and
			// the findings say why.
			if !slices.ContainsFunc(f.Resources, func(r assess.Resource) bool { return r.Type == tr.Type }) {
				t.Errorf("%s %s is not in the findings", tr.Type, tr.ID)
			}
			continue
		}
		left = append(left, tr.Type+" "+tr.ID+" ("+tr.State+")")
	}
	if len(left) > 0 {
		t.Errorf("the simulator still has: %v", left)
	}
	for _, tr := range sim.Truth().Resources {
		if k, ok := resource.Lookup(tr.Type); !tr.Attacker || !ok || !k.Removable() {
			continue
		}
		if msg := stillThere(t, env, tr); msg != "" {
			t.Errorf("the AWS CLI says %s", msg)
		}
	}

	// A second run removes nothing twice.
	before := sim.Truth()
	if code, out, _ := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", strings.Join(ids, ",")); code != ExitOK && code != ExitUsage {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if w := writesBy(sim.Truth(), r.AccessKeyID, before); len(w) > 0 {
		t.Errorf("second run made write calls: %v", w)
	}
}
