package rotate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCredentialsFile: writing a key into a profile of any credentials
// file (comments, CRLF, duplicate or odd sections, long lines) leaves the
// profile holding exactly the new key and every other profile's keys as
// they were; checking the file before a write never panics. `go test` runs
// the seeds as tests; `make fuzz` fuzzes it for a while.
func FuzzCredentialsFile(f *testing.F) {
	f.Add([]byte("# mine\n[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\naws_session_token = tok\nregion = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER\n"), "default")
	f.Add([]byte("[app]\r\naws_access_key_id=AKIAAPP\r\n[app]\r\naws_access_key_id=AKIAAPP2\r\n"), "app")
	f.Add([]byte("aws_access_key_id = AKIATOP\n[ spaced ]\naws_access_key_id = AKIASP\n"), "spaced")
	f.Add([]byte("[x]\n"+strings.Repeat("y", 2<<20)+"\n[other]\naws_access_key_id = AKIAOTHER\n"), "x")
	f.Add([]byte(""), "new")
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		profile = strings.TrimSpace(profile)
		if profile == "" || strings.ContainsAny(profile, "[]\r\n") {
			return // not a profile name the AWS CLI writes
		}
		const id, secret = "AKIANEWNEWNEWNEWNEW2", "newsecretnewsecretnewsecretnewsecret1234"
		out := setProfile(data, profile, map[string]string{"aws_access_key_id": id, "aws_secret_access_key": secret})
		if got := profileValue(out, profile, "aws_access_key_id"); got != id {
			t.Fatalf("profile %q holds %q after the write, want %s", profile, got, id)
		}
		if got := profileValue(out, profile, "aws_secret_access_key"); got != secret {
			t.Fatalf("profile %q holds secret %q after the write", profile, got)
		}
		for _, other := range sections(data) {
			if other == profile {
				continue
			}
			for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region"} {
				if a, b := profileValue(data, other, k), profileValue(out, other, k); a != b {
					t.Fatalf("profile %q: %s was %q, is %q after writing profile %q", other, k, a, b, profile)
				}
			}
		}
		path := filepath.Join(t.TempDir(), "credentials")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = CredentialsFile(path, profile).(*fileDest).CheckOverwrite(context.Background(), "AKIAOLD")
	})
}

// sections are the profile names of an INI file, as profileValue reads
// them.
func sections(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && len(t) >= 2 {
			out = append(out, strings.TrimSpace(t[1:len(t)-1]))
		}
	}
	return out
}
