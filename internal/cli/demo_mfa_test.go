package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// deviceReader answers the MFA prompt as a person would: it reads the code
// from the file the prompt names.
type deviceReader struct {
	t      *testing.T
	errOut *syncBuffer
	rest   io.Reader
}

var codeFilePattern = regexp.MustCompile(`shows its current code in (\S+)\.`)

func (r *deviceReader) Read(p []byte) (int, error) {
	if r.rest == nil {
		m := codeFilePattern.FindStringSubmatch(r.errOut.String())
		if m == nil {
			r.t.Errorf("asked for input before naming where the MFA code is:\n%s", r.errOut.String())
			return 0, io.EOF
		}
		code, err := os.ReadFile(m[1])
		if err != nil {
			r.t.Errorf("read the code file: %v", err)
			return 0, io.EOF
		}
		r.rest = bytes.NewReader(code)
	}
	return r.rest.Read(p)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoBastionMFA: the demo of bastion-mfa asks for the MFA code of the
// responder's device, says where the simulated device shows it, and runs
// the response through the MFA-gated role.
func TestDemoBastionMFA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	errOut := &syncBuffer{}
	in := &deviceReader{t: t, errOut: errOut}
	code := Run(context.Background(), []string{"demo", "--scenario", "bastion-mfa", "--plain", "--tick", "50ms", "--watch", "1s", "--dir", dir},
		&IOStreams{In: in, Out: &out, ErrOut: errOut})
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	prompt := errOut.String()
	if !strings.Contains(prompt, "MFA code for arn:aws:iam::604173829155:mfa/responder: ") {
		t.Errorf("no MFA prompt naming the device:\n%s", prompt)
	}
	for _, want := range []string{"iam UpdateAccessKey", "318457206934", "Done."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// The report's recommendations point to seed 003's setup, naming the
	// roles the key could assume without MFA.
	reports, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*", "*.md"))
	var md strings.Builder
	for _, r := range reports {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		md.Write(b)
	}
	for _, want := range []string{"seed 003", "arn:aws:iam::318457206934:role/*"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the reports (%v) lack %q", reports, want)
		}
	}
}
