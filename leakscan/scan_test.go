package leakscan

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Keys of the test repository; fake but well-formed.
const (
	keyPushed  = "AKIAPUSHEDTHENDELETE"
	keyStash   = "AKIASTASHEDBUTNEVERC"
	keyDangle  = "AKIADANGL2NGC2MM2TZZ"
	keyLocal   = "AKIAL2CALC2MM2TN2TPU"
	keyIgnored = "ASIAIGN2REDENVF2LEZZ"
	secretOne  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// gitT runs git in dir with a fixed identity and no user configuration.
func gitT(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
		"GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@example.com",
		"GIT_AUTHOR_DATE=2024-05-01T19:10:00Z", "GIT_COMMITTER_DATE=2024-05-01T19:10:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not on PATH; CI must have it")
		}
		t.Skip("git is not on PATH")
	}
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// leakyRepo builds a clone with a bare "remote" and a key in each place a
// key hides: pushed then deleted, stash only, an unreachable commit only, a
// local commit only, and an ignored file only.
func leakyRepo(t *testing.T) (repo, remote string) {
	t.Helper()
	root := t.TempDir()
	remote = filepath.Join(root, "remote.git")
	repo = filepath.Join(root, "work")
	gitT(t, root, "init", "-q", "--bare", "-b", "main", remote)
	gitT(t, root, "init", "-q", "-b", "main", repo)
	gitT(t, repo, "remote", "add", "origin", remote)

	write(t, filepath.Join(repo, "README.md"), "# app\n")
	write(t, filepath.Join(repo, ".gitignore"), ".env\n")
	gitT(t, repo, "add", ".")
	gitT(t, repo, "commit", "-q", "-m", "initial")

	write(t, filepath.Join(repo, "config", "aws.ini"), "[default]\nregion = us-east-1\naws_access_key_id = "+keyPushed+"\naws_secret_access_key = "+secretOne+"\n")
	gitT(t, repo, "add", ".")
	gitT(t, repo, "commit", "-q", "-m", "add deploy config")
	gitT(t, repo, "rm", "-q", "config/aws.ini")
	gitT(t, repo, "commit", "-q", "-m", "remove credentials")
	gitT(t, repo, "push", "-q", "origin", "main")

	// Stash only: a tracked file edited, then stashed.
	write(t, filepath.Join(repo, "README.md"), "# app\nexport AWS_ACCESS_KEY_ID="+keyStash+"\n")
	gitT(t, repo, "stash", "-q")

	// Unreachable only: a commit made with plumbing, referenced by nothing
	// and in no reflog.
	f := filepath.Join(t.TempDir(), "dangling.txt")
	write(t, f, "key: "+keyDangle+"\n")
	blob := gitT(t, repo, "hash-object", "-w", f)
	tree := mktree(t, repo, "100644 blob "+blob+"\tdangling.txt\n")
	gitT(t, repo, "commit-tree", tree, "-m", "experiment")

	// Local only: committed on a branch that was never pushed.
	gitT(t, repo, "switch", "-q", "-c", "feature")
	write(t, filepath.Join(repo, "app.py"), "KEY = '"+keyLocal+"'\n")
	gitT(t, repo, "add", "app.py")
	gitT(t, repo, "commit", "-q", "-m", "wip")
	gitT(t, repo, "switch", "-q", "main")

	// Working tree only: an ignored .env file.
	write(t, filepath.Join(repo, ".env"), "AWS_ACCESS_KEY_ID="+keyIgnored+"\n")
	return repo, remote
}

func mktree(t *testing.T, repo, spec string) string {
	t.Helper()
	cmd := exec.Command("git", "-C", repo, "mktree")
	cmd.Stdin = strings.NewReader(spec)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git mktree: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func findingOf(res *Result, value string) *Finding {
	for i := range res.Findings {
		if res.Findings[i].Value == value {
			return &res.Findings[i]
		}
	}
	return nil
}

func TestScanFindsEveryHidingPlace(t *testing.T) {
	needGit(t)
	repo, _ := leakyRepo(t)
	res, err := Scan(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		keyPushed: ReachPushed, keyStash: ReachStash, keyDangle: ReachUnreachable,
		keyLocal: ReachLocal, keyIgnored: ReachDisk,
	}
	for key, reach := range want {
		f := findingOf(res, key)
		if f == nil {
			t.Errorf("%s not found", key)
			continue
		}
		if f.Reach != reach {
			t.Errorf("%s: reach %s, want %s (%+v)", key, f.Reach, reach, f.Locations)
		}
	}
	pushed := findingOf(res, keyPushed)
	if pushed == nil {
		t.FailNow()
	}
	if strings.Join(pushed.PushedTo, ",") != "origin/main" {
		t.Errorf("pushed to %v, want origin/main", pushed.PushedTo)
	}
	l := pushed.Locations[0]
	if l.Source != SourceCommit || l.Path != "config/aws.ini" || l.Line != 3 || l.Subject != "add deploy config" ||
		l.Author != "Dev One <dev@example.com>" || l.InHEAD || l.Date.IsZero() {
		t.Errorf("pushed key location = %+v", l)
	}
	if n := len(pushed.Locations); n != 1 {
		t.Errorf("pushed key seen %d times, want once (introduced once): %+v", n, pushed.Locations)
	}
	// The secret beside it is found, linked to it, and masked.
	sec := findingOf(res, MaskSecret([]byte(secretOne)))
	if sec == nil || sec.Kind != KindSecret || sec.Near != keyPushed || sec.Reach != ReachPushed {
		t.Errorf("secret finding = %+v", sec)
	}
	local := findingOf(res, keyLocal)
	if local != nil && (len(local.PushedTo) != 0 || !strings.Contains(strings.Join(local.Locations[0].Refs, ","), "refs/heads/feature")) {
		t.Errorf("local key = %+v", local)
	}
	ign := findingOf(res, keyIgnored)
	if ign != nil && (ign.Locations[0].Source != SourceWorkTree || ign.Locations[0].Path != ".env") {
		t.Errorf("ignored key = %+v", ign)
	}
	// Nothing of the secret anywhere in the result.
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), secretOne) || strings.Contains(string(b), "wJalrXUtnFEMI") {
		t.Errorf("the secret is in the result: %s", b)
	}
}

func TestScanWithKeyFindsOnlyThatKey(t *testing.T) {
	needGit(t)
	repo, _ := leakyRepo(t)
	res, err := Scan(context.Background(), repo, WithKey(keyPushed))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 2 {
		t.Fatalf("findings = %+v, want the key and its secret", res.Findings)
	}
	for _, f := range res.Findings {
		if f.Value != keyPushed && f.Near != keyPushed {
			t.Errorf("finding of another key: %+v", f)
		}
	}
	res, err = Scan(context.Background(), repo, WithKey("AKIANEVERSEENANYWHER"))
	if err != nil || len(res.Findings) != 0 || res.Objects == 0 {
		t.Fatalf("unknown key: %+v, %v", res, err)
	}
}

func TestScanBadInput(t *testing.T) {
	needGit(t)
	ctx := context.Background()
	var ie *InputError
	if _, err := Scan(ctx, t.TempDir()); !errors.As(err, &ie) || !strings.Contains(ie.Reason, "not a git repository") {
		t.Errorf("plain directory: %v", err)
	}
	if _, err := Scan(ctx, filepath.Join(t.TempDir(), "nope")); !errors.As(err, &ie) || !strings.Contains(ie.Reason, "does not exist") {
		t.Errorf("missing path: %v", err)
	}

	// A shallow clone says what it cannot see.
	repo, remote := leakyRepo(t)
	_ = repo
	shallow := filepath.Join(t.TempDir(), "shallow")
	gitT(t, filepath.Dir(shallow), "clone", "-q", "--depth", "1", "file://"+remote, shallow)
	res, err := Scan(ctx, shallow)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Shallow || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "shallow clone") {
		t.Errorf("shallow clone: %+v", res)
	}
	if findingOf(res, keyPushed) != nil {
		t.Errorf("a depth-1 clone cannot hold the deleted key, yet it was found")
	}
}

func TestScanBinaryAndLargeObjects(t *testing.T) {
	needGit(t)
	dir := t.TempDir()
	gitT(t, dir, "init", "-q", "-b", "main")
	// A binary file with a key in it, and a large text file with keys on
	// both sides of where the chunks meet.
	bin := append([]byte{0, 1, 2, 3, 0}, []byte("\x01"+keyLocal+"\x00\xff")...)
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	var big strings.Builder
	for i := range 3000 {
		if i == 1000 || i == 1001 || i == 2999 {
			big.WriteString("aws_secret_access_key=" + secretOne + " id " + keyPushed + "\n")
			continue
		}
		big.WriteString("filler line of the large file, nothing here at all\n")
	}
	write(t, filepath.Join(dir, "big.txt"), big.String())
	gitT(t, dir, "add", ".")
	gitT(t, dir, "commit", "-q", "-m", "files")

	for _, maxMem := range []int{16 << 20, 4096} {
		res, err := Scan(context.Background(), dir, WithMaxInMemory(maxMem), WithoutWorkTree())
		if err != nil {
			t.Fatal(err)
		}
		b := findingOf(res, keyLocal)
		if b == nil || !b.Locations[0].Binary || res.Binary != 1 {
			t.Errorf("max %d: binary key = %+v, binary blobs %d", maxMem, b, res.Binary)
		}
		k := findingOf(res, keyPushed)
		if k == nil {
			t.Fatalf("max %d: key in the large file not found", maxMem)
		}
		var lines []int
		for _, l := range k.Locations {
			lines = append(lines, l.Line)
		}
		if len(lines) != 3 || lines[0]+lines[1]+lines[2] != 1001+1002+3000 {
			t.Errorf("max %d: key seen on lines %v, want 1001, 1002, 3000 once each", maxMem, lines)
		}
		s := findingOf(res, MaskSecret([]byte(secretOne)))
		if s == nil || len(s.Locations) != 3 || s.Near != keyPushed {
			t.Errorf("max %d: secret = %+v", maxMem, s)
		}
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		in   string
		want []string // kind:value
	}{
		{"id=AKIAIOSFODNN7EXAMPLE", []string{"access-key:AKIAIOSFODNN7EXAMPLE"}},
		{"XAKIAIOSFODNN7EXAMPLE", nil}, // part of a longer word
		{"AKIAIOSFODNN7EXAMPLE1", nil}, // too long
		{"AKIAIOSFODNN0EXAMPLE", nil},  // 0 is not in the alphabet
		{"role AROAIOSFODNN7EXAMPLE", []string{"role-id:AROAIOSFODNN7EXAMPLE"}},
		{"user AIDAIOSFODNN7EXAMPLE ASIAIOSFODNN7EXAMPLE", []string{"user-id:AIDAIOSFODNN7EXAMPLE", "temporary-key:ASIAIOSFODNN7EXAMPLE"}},
		{"secret: " + secretOne, []string{"secret-access-key:" + MaskSecret([]byte(secretOne))}},
		// A 40-character word with no AWS context is not a secret.
		{"hash " + secretOne, nil},
		// Git object names are lower-case hex.
		{"secret da39a3ee5e6b4b0d3255bfef95601890afd80709", nil},
	}
	for _, c := range cases {
		var got []string
		for _, h := range scanBuffer([]byte(c.in)) {
			got = append(got, h.Kind+":"+h.Value)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("scan(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if m := maskText("fix " + secretOne + " oops"); strings.Contains(m, "wJal") || !strings.Contains(m, "secret:sha256:") {
		t.Errorf("maskText = %q", m)
	}
}
