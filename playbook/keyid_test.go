package playbook

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKeyID(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	cases := []struct {
		in   string
		want string // substring of the error; "" means valid
	}{
		{"AKIAIOSFODNN7EXAMPLE", ""},
		{"ASIAIOSFODNN7EXAMPLE", ""},
		{"", "no key given"},
		{"akiaiosfodnn7example", "lower case; access key IDs are upper case: did you mean AKIAIOSFODNN7EXAMPLE?"},
		{" AKIAIOSFODNN7EXAMPLE", "spaces around it"},
		{"AKIAIOSFODNN7EXAMPLE\n", "spaces around it"},
		{"AKIA IOSFODNN7EXAMPLE", "contains spaces"},
		{secret, "looks like a secret access key"},
		{" " + secret, "looks like a secret access key"}, // found by FuzzValidateKeyID
		{"AKIAIOSFODNN7EXAMPLE " + secret, "holds a secret access key next to the ID"},
		{"AKIAIOSFODNN7EXAMPL", "19 characters long; an access key ID has 20"},
		{"AKIAIOSFODNN7EXAMPLE1", ""}, // AWS allows up to 128
		{"AKIATFQR7NSC8Q4X20BJ", ""},  // anonymised data: 8 and 0
		{"AKIAIOSFODNN7EXAMPLE" + strings.Repeat("A", 109), "129 characters long"},
		{"AKIAIOSFODNN-EXAMPLE", `contains '-'`},
		{"AKIAIOSFODNN７EXAMPLE", `full-width character '７'`},
		{"ＡKIA", "full-width character 'Ａ'"},
		{"AKIAIOSＦ", "full-width character 'Ｆ'"},
		{"AIDAIOSFODNN7EXAMPLE", "unique ID of an IAM user"},
		{"AROAIOSFODNN7EXAMPLE", "unique ID of an IAM role"},
		{"ABCDIOSFODNN7EXAMPLE", "does not start with AKIA"},
		// Characters are counted as the responder sees them, not in bytes,
		// and a full-width character is named as such.
		{"AKIAIOSFODNN7EXAMPLＥ", "contains the full-width character 'Ｅ'"},
		{"ＡＫＩＡIOSFODNN7EXAMPLE", "contains the full-width character 'Ａ'"},
		{"AKIAIOSFODNN7EXAMPLÉ", "contains 'É'"},
		{"AKIAIOSFODNN7EXAMPLÉÉ", "contains 'É'"},
	}
	for _, c := range cases {
		err := ValidateKeyID(c.in)
		if c.want == "" {
			if err != nil {
				t.Errorf("ValidateKeyID(%q) = %v, want nil", c.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("ValidateKeyID(%q) = nil, want error with %q", c.in, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateKeyID(%q) = %q, want it to contain %q", c.in, err, c.want)
		}
		if !errors.Is(err, ErrInvalidKeyID) {
			t.Errorf("ValidateKeyID(%q): errors.Is(err, ErrInvalidKeyID) is false", c.in)
		}
		if strings.Contains(err.Error(), "wJalrXUtnFEMI") {
			t.Errorf("ValidateKeyID(%q) repeats the secret: %q", c.in, err)
		}
	}
}

func TestKeyIDNote(t *testing.T) {
	if n := KeyIDNote("AKIAIOSFODNN7EXAMPLE"); n != "" {
		t.Errorf("an issued-form ID gets a note: %q", n)
	}
	if n := KeyIDNote("AKIATFQR7NSC8Q4X20BJ"); !strings.Contains(n, "anonymised data?") {
		t.Errorf("an anonymised ID gets no note: %q", n)
	}
	if n := KeyIDNote("not a key"); n != "" {
		t.Errorf("an invalid ID gets a note rather than an error: %q", n)
	}
}
