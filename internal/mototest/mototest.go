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
	"strconv"
	"sync"
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

// Start returns a moto_server on a loopback port for the test. Without
// moto_server on PATH it skips the test, except in CI (CI set), where a
// missing emulator is a failure.
//
// In a package whose TestMain runs its tests through Main, the test gets the
// package's one server with its state reset; otherwise, or with options, or
// while another test holds the shared one, a server of its own, stopped when
// the test ends.
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
	if o == (options{}) {
		if srv, ok := takeShared(t, bin); ok {
			return srv
		}
	}
	p, err := launch(bin, o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return &Server{URL: p.url}
}

// shared is the package's server under Main: started by the first test that
// asks, reset for each next one, held by one test at a time.
var shared struct {
	sync.Mutex
	on     bool // Main is running the tests
	dir    string
	p      *process
	inUse  bool
	failed error // starting it failed; later tests fail the same way fast
}

// Main runs a package's tests with one moto_server for all of them and
// stops it when they are done. A package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }
//
// moto takes a second or two of CPU to start and to load its first backend,
// ten seconds of wall time on a busy machine; paid once per package instead
// of once per test. Each test still sees an empty account: Start resets
// moto's state (POST /moto-api/reset) before handing it over.
func Main(m *testing.M) int {
	shared.Lock()
	shared.on = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.p != nil {
		shared.p.stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	shared.on = false
	return code
}

// takeShared hands the test the package's server, reset, if the package runs
// under Main and no other test holds it.
func takeShared(t testing.TB, bin string) (*Server, bool) {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.on || shared.inUse {
		return nil, false
	}
	if shared.failed != nil {
		t.Fatal(shared.failed)
	}
	if shared.p != nil && reset(shared.p.url) != nil {
		shared.p.stop() // it died or hangs: start another
		shared.p = nil
	}
	if shared.p == nil {
		if shared.dir == "" {
			dir, err := os.MkdirTemp("", "mototest-")
			if err != nil {
				t.Fatalf("make moto log directory: %v", err)
			}
			shared.dir = dir
		}
		p, err := launch(bin, options{}, shared.dir)
		if err != nil {
			shared.failed = err
			t.Fatal(err)
		}
		shared.p = p
	}
	shared.inUse = true
	t.Cleanup(func() {
		shared.Lock()
		shared.inUse = false
		shared.Unlock()
	})
	return &Server{URL: shared.p.url}, true
}

// reset empties every moto backend.
func reset(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: %s", resp.Status)
	}
	return nil
}

// process is a running moto_server.
type process struct {
	url     string
	cancel  context.CancelFunc
	cmd     *exec.Cmd
	logFile *os.File
}

func (p *process) stop() {
	p.cancel()
	_ = p.cmd.Wait()
	_ = p.logFile.Close()
}

// launch starts moto_server on a free port, logging into dir, and waits
// until it answers.
func launch(bin string, o options, dir string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES="+strconv.FormatBool(o.managedPolicies))
	logFile, err := os.CreateTemp(dir, "moto-*.log")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create moto log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		cancel()
		logFile.Close()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	p := &process{url: fmt.Sprintf("http://127.0.0.1:%d", port), cancel: cancel, cmd: cmd, logFile: logFile}
	// Wait for it to answer, bounded: moto imports every service model at
	// start, which takes a few seconds on a busy machine.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			log, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("moto_server did not answer on %s within a minute: %w\n%s", p.url, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
