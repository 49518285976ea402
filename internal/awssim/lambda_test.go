package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func (f *ecgFixture) lambda(region string) *lambda.Client {
	return lambda.NewFromConfig(f.srv.Config(f.key, region))
}

// addRole gives the account a role as set-up, for functions to run as.
func (f *ecgFixture) addRole(name string) string {
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	r := &Role{Name: name, ID: f.sim.newUniqueID("AROA"), Path: "/", Created: time.Now().UTC(),
		Inline: map[string]string{}, MaxSession: time.Hour}
	f.sim.acct.Roles[name] = r
	return roleARN(f.sim.acct.ID, r)
}

// ecgStatus returns the HTTP status of an SDK error, 0 for others.
func ecgStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func createInput(name, role string, zip []byte) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Role:         aws.String(role),
		Handler:      aws.String("index.handler"),
		Code:         &types.FunctionCode{ZipFile: zip},
	}
}

func TestLambdaFunctions(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	region := "eu-west-2"
	c := f.lambda(region)
	role := f.addRole("lambda-exec")
	zip := []byte("PK\x03\x04 not really a zip, but bytes all the same")

	out, err := c.CreateFunction(ctx, createInput("exfil", role, zip))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zip)
	wantARN := "arn:aws:lambda:" + region + ":" + f.sim.AccountID() + ":function:exfil"
	if aws.ToString(out.FunctionArn) != wantARN || out.CodeSize != int64(len(zip)) ||
		aws.ToString(out.CodeSha256) != base64.StdEncoding.EncodeToString(sum[:]) ||
		out.Runtime != types.RuntimePython312 || aws.ToString(out.Role) != role || out.State != types.StatePending {
		t.Errorf("CreateFunction = %+v", out)
	}

	_, err = c.CreateFunction(ctx, createInput("exfil", role, zip))
	if ecgCode(err) != "ResourceConflictException" || ecgStatus(err) != http.StatusConflict {
		t.Errorf("duplicate CreateFunction: %v", err)
	}
	_, err = c.CreateFunction(ctx, createInput("other", "arn:aws:iam::"+f.sim.AccountID()+":role/nobody", zip))
	ecgWant(t, err, "InvalidParameterValueException")
	_, err = c.CreateFunction(ctx, createInput("bad name!", role, zip))
	ecgWant(t, err, "ValidationException")
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("s3code"), Runtime: types.RuntimePython312,
		Role: aws.String(role), Handler: aws.String("h"), Code: &types.FunctionCode{S3Bucket: aws.String("b"), S3Key: aws.String("k")}})
	ecgWant(t, err, "InvalidParameterValueException")

	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("exfil")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.FunctionArn) != wantARN || got.Configuration.State != types.StateActive ||
		aws.ToString(got.Configuration.Handler) != "index.handler" || got.Configuration.CodeSize != int64(len(zip)) {
		t.Errorf("GetFunction = %+v", got.Configuration)
	}
	byARN, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(wantARN)})
	if err != nil || aws.ToString(byARN.Configuration.FunctionName) != "exfil" {
		t.Errorf("GetFunction by ARN = %v, %v", byARN, err)
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("missing")})
	if ecgCode(err) != "ResourceNotFoundException" || ecgStatus(err) != http.StatusNotFound {
		t.Errorf("GetFunction of a missing function: %v", err)
	}
	// Functions live in their region.
	_, err = f.lambda("us-east-1").GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("exfil")})
	ecgWant(t, err, "ResourceNotFoundException")

	rec, ev := f.findRecord(t, region, "CreateFunction20150331", ecgOK)
	if strings.Contains(string(ev.Raw), base64.StdEncoding.EncodeToString(zip)) || strings.Contains(string(ev.Raw), "zipFile") {
		t.Errorf("CreateFunction record holds the deployment package: %s", ev.Raw)
	}
	if ecgDig(rec, "requestParameters", "functionName") != "exfil" || ecgDig(rec, "responseElements", "functionArn") != wantARN ||
		!ecgHasResource(ev, "AWS::Lambda::Function", "exfil") || ev.AccessKeyID != f.key.AccessKeyID {
		t.Errorf("CreateFunction record: %v %v %+v", rec["requestParameters"], rec["responseElements"], ev.Resources)
	}
	if len(f.events("us-east-1", "CreateFunction20150331")) != 0 {
		t.Error("CreateFunction of eu-west-2 recorded in us-east-1")
	}
	var created bool
	for _, r := range f.sim.Truth().Resources {
		created = created || r.Type == "AWS::Lambda::Function" && r.ID == "exfil" && r.Region == region && r.Attacker
	}
	if !created {
		t.Errorf("truth does not list the function: %+v", f.sim.Truth().Resources)
	}

	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("exfil")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("exfil")})
	if ecgCode(err) != "ResourceNotFoundException" || ecgStatus(err) != http.StatusNotFound {
		t.Errorf("second DeleteFunction: %v", err)
	}
	_, ev = f.findRecord(t, region, "DeleteFunction20150331", ecgOK)
	if !ecgHasResource(ev, "AWS::Lambda::Function", "exfil") {
		t.Errorf("DeleteFunction resources = %+v", ev.Resources)
	}
}

func TestLambdaListFunctionsPages(t *testing.T) {
	f := newECGFixture(t)
	ctx := context.Background()
	c := f.lambda("ap-south-1")
	role := f.addRole("runner")
	empty, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Functions) != 0 || empty.NextMarker != nil {
		t.Errorf("ListFunctions of an empty region = %+v", empty)
	}
	want := map[string]bool{}
	for i := range 7 {
		name := fmt.Sprintf("fn-%d", i)
		want[name] = true
		if _, err := c.CreateFunction(ctx, createInput(name, role, []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	pages := 0
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, fn := range out.Functions {
			if seen[aws.ToString(fn.FunctionName)] {
				t.Errorf("%s on two pages", aws.ToString(fn.FunctionName))
			}
			seen[aws.ToString(fn.FunctionName)] = true
		}
	}
	if pages != 3 || len(seen) != len(want) {
		t.Errorf("%d pages, %d functions; want 3 pages, %d functions", pages, len(seen), len(want))
	}
	_, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(0)})
	if err == nil {
		t.Error("ListFunctions with MaxItems 0 succeeded")
	}
}
