// Package awsclitest runs the AWS CLI, the independent client the
// integration tests check the simulator and keyleak against, without paying
// for a Python start on every call.
//
// The AWS CLI v1 is a Python program whose start (importing awscli and
// botocore) costs about half a second of CPU; a test package that calls it
// sixty times spends most of its CPU there. When the `aws` on PATH is the
// CLI's own script (a Python shebang), Run hands each call to a long-lived
// interpreter of that Python, which runs the CLI's own entry point
// (awscli.clidriver) once per call, with the call's arguments and
// environment: the same code, the same requests on the wire and the same
// output and exit status as `aws …`, without the import. Otherwise (a
// pyenv shim, a wrapper, the CLI v2) it runs `aws` as a command.
package awsclitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Result is what one AWS CLI call printed and its exit status.
type Result struct {
	Stdout, Stderr []byte
	Code           int
}

// Need skips the test when the AWS CLI is not on PATH, except in CI (CI
// set), where a missing CLI is a failure.
func Need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is not on PATH; CI must have it")
		}
		t.Skip("the AWS CLI is not on PATH")
	}
}

// Run runs `aws args…` with the process's environment less every AWS_
// variable, plus env ("KEY=value" each): a call sees no profile or key of
// the shell, only what the test gives it. err is set only when the CLI
// could not be run or ctx ended first; a call that fails has a non-zero
// Code and its message in Stderr.
func Run(ctx context.Context, env []string, args ...string) (Result, error) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		return Result{}, err
	}
	if py := pythonOf(bin); py != "" {
		return warm.run(ctx, py, env, args)
	}
	return runCommand(ctx, bin, env, args)
}

// Output runs the call as Run does and returns its standard output, or an
// error that quotes the call and its error output when it did not exit 0.
func Output(ctx context.Context, env []string, args ...string) ([]byte, error) {
	res, err := Run(ctx, env, args...)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return nil, fmt.Errorf("aws %s: exit %d: %s", strings.Join(args, " "), res.Code, strings.TrimSpace(string(res.Stderr)))
	}
	return res.Stdout, nil
}

// baseEnv is the process's environment less its AWS_ variables.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

func runCommand(ctx context.Context, bin string, env, args []string) (Result, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		return Result{stdout.Bytes(), stderr.Bytes(), ee.ExitCode()}, nil
	default:
		return Result{}, fmt.Errorf("run aws %s: %w", strings.Join(args, " "), err)
	}
	return Result{stdout.Bytes(), stderr.Bytes(), 0}, nil
}

// pythonOf returns the interpreter of the script bin when its first line
// is a Python shebang ("#!/…/python3"), else "".
func pythonOf(bin string) string {
	f, err := os.Open(bin)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 512)).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "#!/") {
		return ""
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) != 1 || !strings.HasPrefix(fields[0][strings.LastIndex(fields[0], "/")+1:], "python") {
		return ""
	}
	return fields[0]
}

// server is the Python side: one request per line on stdin ({"args",
// "env"}), one answer per line on stdout ({"code","stdout","stderr"}).
// Each call gets exactly the environment Run gives a command (the start's
// environment, which has no AWS_ variable, plus the call's), and the CLI's
// streams are captured for the call. The script mirrors the `aws` script:
// the same LC_CTYPE fix, then awscli.clidriver.main's driver.
const server = `
import contextlib, io, json, os, sys
import awscli.clidriver
base = dict(os.environ)  # with AWS_DATA_PATH, which importing awscli sets
out = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    req["env"] = req["env"] or []
    os.environ.clear()
    os.environ.update(base)
    for kv in req["env"]:
        k, _, v = kv.partition("=")
        os.environ[k] = v
    if os.environ.get("LC_CTYPE", "") == "UTF-8":
        os.environ["LC_CTYPE"] = "en_US.UTF-8"
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try:
            code = awscli.clidriver.create_clidriver().main(req["args"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException as e:
            se.write("awsclitest: %r\n" % (e,))
            code = 255
    out.write(json.dumps({"code": code or 0, "stdout": so.getvalue(), "stderr": se.getvalue()}) + "\n")
    out.flush()
`

// pool keeps the warm interpreters: at most size run at once (the machine's
// two cores), each serving one call at a time.
type pool struct {
	mu   sync.Mutex
	idle []*interp
	n    int
	free chan struct{}
}

const size = 2

var warm = &pool{free: make(chan struct{}, size)}

func init() {
	for range size {
		warm.free <- struct{}{}
	}
}

type interp struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
}

// lockedBuffer is the interpreter's error output, written by exec's copy
// and read when a call fails.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (p *pool) run(ctx context.Context, py string, env, args []string) (Result, error) {
	select {
	case <-p.free:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { p.free <- struct{}{} }()
	p.mu.Lock()
	var in *interp
	if k := len(p.idle); k > 0 {
		in, p.idle = p.idle[k-1], p.idle[:k-1]
	}
	p.mu.Unlock()
	if in == nil {
		var err error
		if in, err = start(py); err != nil {
			return Result{}, err
		}
	}
	res, err := in.call(ctx, env, args)
	if err != nil {
		// A call that did not answer leaves the interpreter in an unknown
		// state: it is stopped, and the next call starts another.
		_ = in.cmd.Process.Kill()
		_ = in.cmd.Wait()
		return Result{}, fmt.Errorf("aws %s: %w", strings.Join(args, " "), err)
	}
	p.mu.Lock()
	p.idle = append(p.idle, in)
	p.mu.Unlock()
	return res, nil
}

func start(py string) (*interp, error) {
	cmd := exec.Command(py, "-c", server)
	cmd.Env = baseEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the AWS CLI's Python %s: %w", py, err)
	}
	return &interp{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: stderr}, nil
}

func (in *interp) call(ctx context.Context, env, args []string) (Result, error) {
	req, err := json.Marshal(map[string][]string{"args": args, "env": env})
	if err != nil {
		return Result{}, err
	}
	type answer struct {
		res Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		if _, err := in.stdin.Write(append(req, '\n')); err != nil {
			done <- answer{err: err}
			return
		}
		line, err := in.stdout.ReadBytes('\n')
		if err != nil {
			done <- answer{err: fmt.Errorf("the AWS CLI's Python ended: %w: %s", err, strings.TrimSpace(in.stderr.String()))}
			return
		}
		var a struct {
			Code           int
			Stdout, Stderr string
		}
		if err := json.Unmarshal(line, &a); err != nil {
			done <- answer{err: fmt.Errorf("the AWS CLI's Python answered %q: %w", line, err)}
			return
		}
		done <- answer{res: Result{[]byte(a.Stdout), []byte(a.Stderr), a.Code}}
	}()
	select {
	case a := <-done:
		return a.res, a.err
	case <-ctx.Done():
		_ = in.cmd.Process.Kill()
		<-done
		return Result{}, ctx.Err()
	}
}
