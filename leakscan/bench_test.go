package leakscan

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchCommits is the size of the generated history (KEYLEAK_SCAN_COMMITS
// overrides it).
const benchCommits = 20000

// benchRepo generates a repository of n commits with git fast-import: 200
// files of about 60 lines, each commit rewriting one line of one file. A key
// is committed half-way and removed in the next commit.
func benchRepo(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	gitT(b, dir, "init", "-q", "-b", "main")
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	rng := rand.New(rand.NewPCG(7, 7))
	const files, lines = 200, 60
	content := make([][]string, files)
	for f := range content {
		for l := range lines {
			content[f] = append(content[f], fmt.Sprintf("line %d of module %d: value = %d", l, f, rng.IntN(1e9)))
		}
	}
	when := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for c := range n {
		f := rng.IntN(files)
		switch c {
		case n / 2:
			content[f][10] = "aws_access_key_id = " + keyPushed
			content[f][11] = "aws_secret_access_key = " + secretOne
		case n/2 + 1:
			for i := range content {
				for j := range content[i] {
					if strings.Contains(content[i][j], "aws_") {
						content[i][j] = "removed"
					}
				}
			}
		default:
			content[f][rng.IntN(lines)] = fmt.Sprintf("changed in commit %d: %d", c, rng.IntN(1e9))
		}
		body := strings.Join(content[f], "\n") + "\n"
		msg := "commit " + strconv.Itoa(c) + "\n"
		fmt.Fprintf(w, "commit refs/heads/main\nauthor Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\ndata %d\n%s",
			when+int64(c)*60, when+int64(c)*60, len(msg), msg)
		fmt.Fprintf(w, "M 100644 inline src/mod%03d.txt\ndata %d\n%s\n", f, len(body), body)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("git fast-import: %v", err)
	}
	gitT(b, dir, "checkout", "-q", "main")
	return dir
}

// BenchmarkScanVsGitLogGrep times a full scan (every object, the working
// tree, and the commits of the hits) against `git log -p --all | grep` for
// the same key-ID pattern, on a generated history, and reports the ratio
// (scan time / git log time; below 1 means the scan is faster).
func BenchmarkScanVsGitLogGrep(b *testing.B) {
	needGit(b)
	n := benchCommits
	if v, err := strconv.Atoi(os.Getenv("KEYLEAK_SCAN_COMMITS")); err == nil && v > 0 {
		n = v
	}
	repo := benchRepo(b, n)
	pattern := "(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z2-7]{16}"
	ctx := context.Background()
	var scanT, grepT time.Duration
	for b.Loop() {
		t0 := time.Now()
		res, err := Scan(ctx, repo)
		if err != nil {
			b.Fatal(err)
		}
		scanT += time.Since(t0)
		if f := findingOf(res, keyPushed); f == nil || len(f.Locations) != 1 {
			b.Fatalf("scan did not find the key once: %+v", f)
		}
		t1 := time.Now()
		cmd := exec.Command("sh", "-c", "git -C "+shellQuote(repo)+" log -p --all | grep -E -c '"+pattern+"'")
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("git log -p | grep: %v", err)
		}
		grepT += time.Since(t1)
		if strings.TrimSpace(string(out)) != "2" { // added and removed
			b.Fatalf("git log -p | grep found %q lines, want 2", out)
		}
	}
	b.ReportMetric(float64(scanT)/float64(grepT), "scan/gitlog")
	b.ReportMetric(scanT.Seconds()/float64(b.N), "scan-s/op")
	b.ReportMetric(grepT.Seconds()/float64(b.N), "gitlog-s/op")
	b.ReportMetric(float64(n), "commits")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
