package autorespond

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gopkg.in/yaml.v3"

	"github.com/keyleak/keyleak/internal/mototest"
)

var update = flag.Bool("update", false, "rewrite the generated statements of examples/auto-response/template.yaml")

const (
	templatePath  = "../../examples/auto-response/template.yaml"
	responderPath = "../../examples/policies/responder.json"
	beginMarker   = "# BEGIN responder statements (generated; do not edit)"
	endMarker     = "# END responder statements"
)

// unattendedStatements are the statements of responder.json the unattended
// response calls: identify, contain and revoke, stop what the key minted,
// investigate through LookupEvents, assess, and price the bill the report
// carries (read-only; denied, the report falls back to keyleak's table).
// Eradication (and the evidence kept before it), rotation and the
// organization's sources are left to a person and get no permission.
var unattendedStatements = []string{
	"IdentifyTheKeyAndTheResponder",
	"ContainAndRevokeSessions",
	"StopWhatTheKeyMinted",
	"InvestigateCloudTrailInEveryRegion",
	"AssessWhatTheAttackerCreated",
	"PriceWhatTheAttackerRan",
}

// notUnattended are actions of those statements the function never calls,
// and why.
var notUnattended = map[string]string{
	"s3:ListBucket": "the function reads CloudTrail through LookupEvents, not the trail's log files; its own bucket is granted apart",
	"s3:GetObject":  "as s3:ListBucket",
}

type statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource any
}

// responderStatements derives the role's responder statements from
// responder.json, the policy a test keeps equal to what the code calls.
func responderStatements(t *testing.T) []statement {
	t.Helper()
	b, err := os.ReadFile(responderPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []statement }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []statement
	for _, sid := range unattendedStatements {
		i := slices.IndexFunc(doc.Statement, func(s statement) bool { return s.Sid == sid })
		if i < 0 {
			t.Fatalf("responder.json has no statement %s: update unattendedStatements", sid)
		}
		st := doc.Statement[i]
		st.Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return notUnattended[a] != "" })
		out = append(out, st)
	}
	return out
}

// renderStatements writes the statements as the template's YAML, at its
// indentation.
func renderStatements(sts []statement) string {
	var b strings.Builder
	const ind = "              "
	for _, st := range sts {
		fmt.Fprintf(&b, "%s- Sid: %s\n%s  Effect: %s\n%s  Action:\n", ind, st.Sid, ind, st.Effect, ind)
		for _, a := range st.Action {
			fmt.Fprintf(&b, "%s    - %s\n", ind, a)
		}
		fmt.Fprintf(&b, "%s  Resource: \"%v\"\n", ind, st.Resource)
	}
	return b.String()
}

// TestTemplateRoleIsDerived: the function's role holds exactly the
// unattended statements of responder.json, generated, not copied by hand.
func TestTemplateRoleIsDerived(t *testing.T) {
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
	if i < 0 || j < i {
		t.Fatalf("template.yaml has no %q … %q block", beginMarker, endMarker)
	}
	start := i + len(beginMarker) + 1
	lineStart := strings.LastIndex(text[:j], "\n") + 1
	want := renderStatements(responderStatements(t))
	if got := text[start:lineStart]; got != want {
		if !*update {
			t.Fatalf("the template's responder statements differ from responder.json's; run go test ./internal/autorespond -run TestTemplateRoleIsDerived -update\n--- got\n%s--- want\n%s", got, want)
		}
		if err := os.WriteFile(templatePath, []byte(text[:start]+want+text[lineStart:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The file is YAML whose role policy holds them.
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	for _, a := range []string{"iam:UpdateAccessKey", "iam:PutUserPolicy", "cloudtrail:LookupEvents"} {
		if !strings.Contains(want, "- "+a+"\n") {
			t.Errorf("the role cannot call %s", a)
		}
	}
	for _, a := range []string{"ec2:TerminateInstances", "ec2:CreateSnapshot", "ec2:GetConsoleOutput", "iam:DeleteUser", "iam:CreateAccessKey", "secretsmanager:PutSecretValue"} {
		if strings.Contains(want, "- "+a+"\n") {
			t.Errorf("the role may call %s, which the unattended response never does", a)
		}
	}
}

// lambdaZip builds the function as make lambda does, for this machine's
// architecture, into a zip holding bootstrap.
func lambdaZip(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", bin, "../../cmd/keyleak-lambda")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build keyleak-lambda: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// The fastest deflate: the test deploys the zip, it does not ship it,
	// and the default level spent most of this test's CPU under -race.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, ExternalAttrs: 0o755 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(exe); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTemplateDeploysInMoto deploys examples/auto-response/template.yaml in
// moto_server as the README's command does: the stack completes, and the
// rule (on the five RISK types, aimed at the function), the function
// (provided.al2023, its role, its bucket and topic) and the role exist.
func TestTemplateDeploysInMoto(t *testing.T) {
	moto := mototest.Start(t)
	ctx := context.Background()
	cfg := moto.Config("AKIAIOSFODNN7EXAMPLE", "moto-secret", "us-east-1")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("keyleak-code")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keyleak-code"), Key: aws.String("keyleak-lambda.zip"), Body: bytes.NewReader(lambdaZip(t))}); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	arch := "x86_64"
	if runtime.GOARCH == "arm64" {
		arch = "arm64"
	}
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("keyleak"), TemplateBody: aws.String(string(body)),
		Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityIam},
		Parameters: []cftypes.Parameter{
			{ParameterKey: aws.String("CodeBucket"), ParameterValue: aws.String("keyleak-code")},
			{ParameterKey: aws.String("Architecture"), ParameterValue: aws.String(arch)},
		},
	}); err != nil {
		t.Fatalf("create stack: %v", err)
	}
	var stack cftypes.Stack
	for i := 0; ; i++ {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("keyleak")})
		if err != nil {
			t.Fatal(err)
		}
		stack = out.Stacks[0]
		if !strings.HasSuffix(string(stack.StackStatus), "_IN_PROGRESS") || i == 200 {
			break
		}
	}
	if stack.StackStatus != cftypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String("keyleak")})
	if err != nil {
		t.Fatal(err)
	}
	phys := map[string]string{}
	for _, r := range res.StackResources {
		phys[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		if r.ResourceStatus != cftypes.ResourceStatusCreateComplete {
			t.Errorf("%s is %s", aws.ToString(r.LogicalResourceId), r.ResourceStatus)
		}
	}

	role, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(phys["ResponderRole"])})
	if err != nil {
		t.Fatalf("the role: %v", err)
	}
	fn, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(phys["ResponderFunction"])})
	if err != nil {
		t.Fatalf("the function: %v", err)
	}
	c := fn.Configuration
	if string(c.Runtime) != "provided.al2023" || aws.ToString(c.Handler) != "bootstrap" || aws.ToString(c.Role) != aws.ToString(role.Role.Arn) ||
		aws.ToInt32(c.Timeout) != 900 {
		t.Errorf("the function: runtime %s, handler %s, role %s, timeout %d", c.Runtime, aws.ToString(c.Handler), aws.ToString(c.Role), aws.ToInt32(c.Timeout))
	}
	if c.Environment == nil || c.Environment.Variables[EnvBucket] != phys["CaseBucket"] || c.Environment.Variables[EnvTopic] != phys["SummaryTopic"] {
		t.Errorf("the function's environment: %+v", c.Environment)
	}

	eb := eventbridge.NewFromConfig(cfg)
	rule, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(phys["HealthRiskRule"])})
	if err != nil {
		t.Fatalf("the rule: %v", err)
	}
	var pattern struct {
		Source []string `json:"source"`
		Detail struct {
			Service       []string `json:"service"`
			EventTypeCode []string `json:"eventTypeCode"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(rule.EventPattern)), &pattern); err != nil {
		t.Fatalf("the rule's pattern: %v", err)
	}
	if !slices.Equal(pattern.Source, []string{"aws.health"}) || !slices.Equal(pattern.Detail.Service, []string{"RISK"}) || len(pattern.Detail.EventTypeCode) != 5 {
		t.Errorf("the rule's pattern: %s", aws.ToString(rule.EventPattern))
	}
	targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != aws.ToString(c.FunctionArn) {
		t.Errorf("the rule's targets: %+v", targets.Targets)
	}
}
