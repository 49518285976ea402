package report

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	hex40 := "3f786850e387550fdab836ed7e6dc881de23001b"
	cases := []struct{ name, in, want string }{
		{"secret alone", exampleSecret, Masked},
		{"secret in ini", "aws_secret_access_key = " + exampleSecret + "\n", "aws_secret_access_key = " + Masked + "\n"},
		{"secret after equals", "SecretAccessKey=" + exampleSecret + "&x=1", "SecretAccessKey=" + Masked + "&x=1"},
		{"secret in json", `{"secretAccessKey":"` + exampleSecret + `"}`, `{"secretAccessKey":"` + Masked + `"}`},
		{"access key id whole", "key " + leakedKey + " used", "key " + leakedKey + " used"},
		{"hex digest kept", "commit " + hex40, "commit " + hex40},
		{"41 characters kept", exampleSecret + "A", exampleSecret + "A"},
		{"padded base64 kept", exampleSecret + "=", exampleSecret + "="},
		{"session token", "token " + fakeToken + " end", "token " + Masked + " end"},
		{"old session token", "FwoGZXIvYXdzEBYaDHhZ" + strings.Repeat("Ab1/", 40), Masked},
		{"url-encoded token", "X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCXVz%3D&a=b", "X-Amz-Security-Token=" + Masked + "&a=b"},
		{"plain text", "CreateUser from 203.0.113.7", "CreateUser from 203.0.113.7"},
		{"empty", "", ""},
		{"arn kept", "arn:aws:iam::111122223333:user/deploy-bot", "arn:aws:iam::111122223333:user/deploy-bot"},
	}
	for _, c := range cases {
		if got := Mask(c.in); got != c.want {
			t.Errorf("%s: Mask(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestMaskJSON(t *testing.T) {
	raw := `{"a":"line\n` + exampleSecret + `","b":"\u00e9` + exampleSecret + `","c":"\\` + exampleSecret +
		`","creds":{"sessionToken":"` + fakeToken + `","accessKeyId":"` + sessionKey + `"},"n":1}`
	if !json.Valid([]byte(raw)) {
		t.Fatal("test input is not JSON")
	}
	got := MaskJSON([]byte(raw))
	if !json.Valid(got) {
		t.Fatalf("masked JSON is invalid: %s", got)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatal(err)
	}
	if v["a"] != "line\n"+Masked || v["b"] != "é"+Masked || v["c"] != `\`+Masked {
		t.Errorf("escapes mishandled: a=%q b=%q c=%q", v["a"], v["b"], v["c"])
	}
	creds := v["creds"].(map[string]any)
	if creds["sessionToken"] != Masked || creds["accessKeyId"] != sessionKey {
		t.Errorf("creds = %v", creds)
	}
	if strings.Contains(string(got), exampleSecret) || strings.Contains(string(got), "IQoJb3JpZ2lu") {
		t.Errorf("secret survived: %s", got)
	}
	plain := []byte(`{"eventName":"ListUsers"}`)
	if got := MaskJSON(plain); string(got) != string(plain) {
		t.Errorf("MaskJSON changed text without secrets: %s", got)
	}
}
