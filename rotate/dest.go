package rotate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NewKey is a freshly made access key. It lives in memory only, for the few
// calls between CreateAccessKey and the hand-over; it is never journaled,
// logged or encoded (its fields are not exported to encoding/json).
type NewKey struct {
	AccessKeyID string
	secret      string
}

// String never shows the secret.
func (k NewKey) String() string { return k.AccessKeyID + " (secret withheld)" }

// MarshalJSON never shows the secret.
func (k NewKey) MarshalJSON() ([]byte, error) { return json.Marshal(k.AccessKeyID) }

// Destination is where a new key's secret goes: the only place it is
// written.
type Destination interface {
	// String names the destination as --to does ("secretsmanager:NAME").
	String() string
	// Put hands the key over. It must be safe to repeat for the same key.
	Put(ctx context.Context, k NewKey) error
	// Holds reports whether the destination holds the key with this ID, so
	// that a rotation interrupted after Put can tell whether the hand-over
	// happened. Destinations that cannot tell (a terminal) answer false.
	Holds(ctx context.Context, keyID string) (bool, error)
	// Warning is shown after a hand-over, "" when there is nothing to say.
	Warning() string
}

// ParseTo splits a --to value into its kind ("secretsmanager",
// "credentials", "stdout") and argument.
func ParseTo(spec string) (kind, arg string, err error) {
	kind, arg, _ = strings.Cut(spec, ":")
	switch kind {
	case "secretsmanager", "credentials":
		if arg == "" {
			return "", "", fmt.Errorf("--to %s needs a name: %s:NAME", kind, kind)
		}
		return kind, arg, nil
	case "stdout":
		if arg != "" {
			return "", "", fmt.Errorf("--to stdout takes no name")
		}
		return kind, "", nil
	}
	return "", "", fmt.Errorf("--to %q: use secretsmanager:NAME, credentials:PROFILE or stdout", spec)
}

// secretValue is the JSON a secret holds: the names the AWS SDKs and the
// CLI's credential_process expect.
type secretValue struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// SecretsManager hands the key to a Secrets Manager secret, created if
// needed. The value is JSON {"Version":1,"AccessKeyId","SecretAccessKey"},
// the shape credential_process reads.
func SecretsManager(c SecretsAPI, name string) Destination { return &smDest{c: c, name: name} }

type smDest struct {
	c    SecretsAPI
	name string
}

func (d *smDest) String() string  { return "secretsmanager:" + d.name }
func (d *smDest) Warning() string { return "" }

// requestToken makes a repeated put of the same key the same request
// (Secrets Manager answers it without a new version). 32-64 characters.
func requestToken(keyID string) string { return "keyleak-rotate-" + keyID }

func (d *smDest) Put(ctx context.Context, k NewKey) error {
	b, err := json.Marshal(secretValue{Version: 1, AccessKeyID: k.AccessKeyID, SecretAccessKey: k.secret})
	if err != nil {
		return fmt.Errorf("encode secret: %w", err)
	}
	_, err = d.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(d.name)})
	switch {
	case isCode(err, "ResourceNotFoundException"):
		_, err = d.c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(d.name), SecretString: aws.String(string(b)),
			ClientRequestToken: aws.String(requestToken(k.AccessKeyID)), Description: aws.String("AWS access key, rotated by keyleak")})
		if !isCode(err, "ResourceExistsException") {
			if err != nil {
				return fmt.Errorf("create secret %s: %w", d.name, err)
			}
			return nil
		}
	case err != nil:
		return fmt.Errorf("describe secret %s: %w", d.name, err)
	}
	if _, err := d.c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(d.name), SecretString: aws.String(string(b)),
		ClientRequestToken: aws.String(requestToken(k.AccessKeyID))}); err != nil {
		return fmt.Errorf("put secret value %s: %w", d.name, err)
	}
	return nil
}

func (d *smDest) Holds(ctx context.Context, keyID string) (bool, error) {
	out, err := d.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(d.name)})
	if isCode(err, "ResourceNotFoundException") {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read secret %s: %w", d.name, err)
	}
	var v secretValue
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v) != nil {
		return false, nil
	}
	return v.AccessKeyID == keyID, nil
}

// CredentialsFile hands the key to a profile of the shared credentials
// file (path), written atomically with mode 0600. Other profiles and
// comments are kept.
func CredentialsFile(path, profile string) Destination {
	return &fileDest{path: path, profile: profile}
}

type fileDest struct{ path, profile string }

func (d *fileDest) String() string { return "credentials:" + d.profile }

func (d *fileDest) Warning() string {
	return fmt.Sprintf("the secret is now in %s in plain text (mode 0600): a keychain is the better home — aws-vault add %s stores it encrypted, and aws-vault exec %s -- … hands out short sessions", d.path, d.profile, d.profile)
}

func (d *fileDest) Put(_ context.Context, k NewKey) error {
	old, err := os.ReadFile(d.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", d.path, err)
	}
	data := setProfile(old, d.profile, map[string]string{"aws_access_key_id": k.AccessKeyID, "aws_secret_access_key": k.secret})
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(d.path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	if err := os.Rename(tmp.Name(), d.path); err != nil {
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	return nil
}

func (d *fileDest) Holds(_ context.Context, keyID string) (bool, error) {
	b, err := os.ReadFile(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", d.path, err)
	}
	return profileValue(b, d.profile, "aws_access_key_id") == keyID, nil
}

// setProfile sets keys in an INI section, replacing their old lines and
// dropping aws_session_token (a long-term key has none); the section is
// appended when missing.
func setProfile(data []byte, profile string, kv map[string]string) []byte {
	var out bytes.Buffer
	in, found, written := false, false, false
	write := func() {
		for _, k := range []string{"aws_access_key_id", "aws_secret_access_key"} {
			fmt.Fprintf(&out, "%s = %s\n", k, kv[k])
		}
		written = true
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			if in && !written {
				write()
			}
			in = strings.TrimSpace(t[1:len(t)-1]) == profile
			found = found || in
			out.WriteString(line + "\n")
			if in {
				write()
			}
			continue
		}
		if in {
			k, _, _ := strings.Cut(t, "=")
			switch strings.TrimSpace(k) {
			case "aws_access_key_id", "aws_secret_access_key", "aws_session_token":
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	if !found {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "[%s]\n", profile)
		write()
	}
	return out.Bytes()
}

// profileValue reads one key of an INI section.
func profileValue(data []byte, profile, key string) string {
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			in = strings.TrimSpace(t[1:len(t)-1]) == profile
			continue
		}
		if k, v, ok := strings.Cut(t, "="); in && ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Writer hands the key over by printing it, once, to w (the terminal).
func Writer(w io.Writer) Destination { return &writerDest{w: w} }

type writerDest struct{ w io.Writer }

func (d *writerDest) String() string { return "stdout" }
func (d *writerDest) Warning() string {
	return "the secret was printed once and is not kept anywhere: store it now (aws-vault add PROFILE reads it from the prompt); it cannot be shown again"
}

func (d *writerDest) Put(_ context.Context, k NewKey) error {
	_, err := fmt.Fprintf(d.w, "AccessKeyId:     %s\nSecretAccessKey: %s\n", k.AccessKeyID, k.secret)
	if err != nil {
		return fmt.Errorf("print the new key: %w", err)
	}
	return nil
}

func (d *writerDest) Holds(context.Context, string) (bool, error) { return false, nil }
