package awssim

import "testing"

func TestParseSigV4(t *testing.T) {
	tests := []struct {
		header string
		want   sigv4Scope
		ok     bool
	}{
		{"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			sigv4Scope{"AKIAEXAMPLE", "eu-west-1", "ec2"}, true},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=ASIAX/20240101/us-east-1/sts/aws4_request, Signature=abc",
			sigv4Scope{"ASIAX", "us-east-1", "sts"}, true},
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/sts, Signature=abc", sigv4Scope{}, false},
		{"Basic dXNlcjpwYXNz", sigv4Scope{}, false},
		{"", sigv4Scope{}, false},
	}
	for _, tt := range tests {
		got, ok := parseSigV4(tt.header)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseSigV4(%q) = %+v, %v; want %+v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
