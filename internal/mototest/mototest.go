// Package mototest starts moto_server, the independent AWS emulator, for
// integration tests. moto proves wire compatibility with IAM, STS and EC2 as
// another implementation understands them; it does not enforce inactive keys
// or most policy semantics, so tests assert on state, not on rejection.
package mototest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/keyleak/keyleak/internal/awsapi"
)

// Server is a running moto_server on loopback.
type Server struct {
	URL string
}

// Option changes how Start runs moto_server.
type Option func(*options)

type options struct{ managedPolicies bool }

// WithManagedPolicies makes moto hold the AWS managed policies
// (arn:aws:iam::aws:policy/…), for tests that attach one. moto then loads
// the whole set into every account it touches, which costs most of a second
// each time: without it an organization test spent a minute creating its
// member accounts.
func WithManagedPolicies() Option { return func(o *options) { o.managedPolicies = true } }

// Start starts moto_server on a free loopback port and stops it when the test
// ends. Without moto_server on PATH it skips the test, except in CI (CI set),
// where a missing emulator is a failure.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("moto_server is not on PATH; CI must provide it")
		}
		t.Skip("moto_server is not on PATH; install moto (pip install 'moto[server]') to run this integration test")
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES="+strconv.FormatBool(o.managedPolicies))
	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		cancel()
		t.Fatalf("create moto log: %v", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = logFile.Close()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Wait for it to answer, bounded: moto imports every service model at
	// start, which takes a few seconds on a busy machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("moto_server did not answer on %s within a minute: %v\n%s", url, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &Server{URL: url}
}

// Config returns an aws.Config that sends every call to moto with the given
// keys. It is built by hand so nothing from the environment leaks in.
func (s *Server) Config(accessKeyID, secret, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 3,
		HTTPClient:       awsapi.BufferBodies(nil),
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
