package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawCall sends a hand-made request signed with SigV4 by key and secret
// (none when key is "") and returns the status and the error code in the
// body, whatever the protocol.
func rawCall(t *testing.T, srv *Server, key, secret, service, method, path, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	} else if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "" {
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var x struct {
		Code  string `xml:"Error>Code"`
		Codes string `xml:"Errors>Error>Code"`
	}
	if xml.Unmarshal(b, &x) == nil && (x.Code != "" || x.Codes != "") {
		return resp.StatusCode, x.Code + x.Codes
	}
	var j struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(b, &j) == nil && j.Type != "" {
		return resp.StatusCode, j.Type
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
}

func TestMalformedRequestsGetAWSErrors(t *testing.T) {
	s := New(WithLookupRate(100, 100))
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := s.AddUser("u", time.Now(), "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	k, err := s.AddAccessKey("u", time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	id := k.AccessKeyID
	tests := []struct {
		name, key, service, method, path, target, body string
		status                                         int
		code                                           string
	}{
		{"unknown IAM action", id, "iam", "POST", "/", "", "Action=StealEverything&Version=2010-05-08", 400, "InvalidAction"},
		{"missing Action", id, "iam", "POST", "/", "", "Version=2010-05-08", 400, "MissingAction"},
		{"missing parameter", id, "iam", "POST", "/", "", "Action=CreateUser&Version=2010-05-08", 400, "MissingParameter"},
		{"unknown EC2 action", id, "ec2", "POST", "/", "", "Action=MineBitcoin&Version=2016-11-15", 400, "InvalidAction"},
		{"no signature", "", "iam", "POST", "/", "", "Action=ListUsers", 403, "MissingAuthenticationToken"},
		{"unknown key", "AKIAAAAAAAAAAAAAAAAA", "sts", "POST", "/", "", "Action=GetCallerIdentity&Version=2011-06-15", 403, "InvalidClientTokenId"},
		{"unknown CloudTrail operation", id, "cloudtrail", "POST", "/", "CloudTrail_20131101.Nope", "{}", 400, "UnknownOperationException"},
		{"malformed JSON", id, "cloudtrail", "POST", "/", "CloudTrail_20131101.LookupEvents", "{not json", 400, "SerializationException"},
		{"two lookup attributes", id, "cloudtrail", "POST", "/", "CloudTrail_20131101.LookupEvents",
			`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"A"},{"AttributeKey":"Username","AttributeValue":"u"}]}`, 400, "InvalidLookupAttributesException"},
		{"MaxResults 51", id, "cloudtrail", "POST", "/", "CloudTrail_20131101.LookupEvents", `{"MaxResults":51}`, 400, "InvalidMaxResultsException"},
		{"bad NextToken", id, "cloudtrail", "POST", "/", "CloudTrail_20131101.LookupEvents", `{"NextToken":"garbage"}`, 400, "InvalidNextTokenException"},
		{"unknown Lambda route", id, "lambda", "GET", "/2015-03-31/nothing", "", "", 404, "UnknownOperationException"},
	}
	for _, tt := range tests {
		status, code := rawCall(t, srv, tt.key, k.Secret, tt.service, tt.method, tt.path, tt.target, tt.body)
		if status != tt.status || code != tt.code {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, status, code, tt.status, tt.code)
		}
	}
}
