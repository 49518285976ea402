package rotate

import (
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

// overwriteChecker is a destination that can tell, before a key is made,
// whether handing one over would overwrite credentials other than those
// of the key being rotated.
type overwriteChecker interface {
	CheckOverwrite(ctx context.Context, oldKeyID string) error
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

type fileDest struct {
	path, profile string
	backup        string // where Put kept the file it overwrote, "" if none
}

func (d *fileDest) String() string { return "credentials:" + d.profile }

func (d *fileDest) Warning() string {
	w := fmt.Sprintf("the secret is now in %s in plain text (mode 0600): a keychain is the better home — aws-vault add %s stores it encrypted, and aws-vault exec %s -- … hands out short sessions", d.path, d.profile, d.profile)
	if d.backup != "" {
		w += fmt.Sprintf("; the file as it was before is kept in %s (mode 0600; delete it once the new key works)", d.backup)
	}
	return w
}

// CheckOverwrite refuses a profile that holds credentials other than the
// key being rotated: they may be the ones the responder signs in with, and
// replacing them locks the responder out of their own identity.
func (d *fileDest) CheckOverwrite(_ context.Context, oldKeyID string) error {
	b, err := os.ReadFile(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", d.path, err)
	}
	held := profileValue(b, d.profile, "aws_access_key_id")
	switch {
	case held == oldKeyID:
		return nil // the rotated key's own profile: the new key replaces it
	case held != "":
		return &BlockedError{Reason: fmt.Sprintf("profile %s of %s holds %s, not the key being rotated (%s): writing the new key there would replace those credentials, perhaps the ones you are signed in with; choose another profile (--to credentials:NAME) or Secrets Manager",
			d.profile, d.path, held, oldKeyID)}
	case profileValue(b, d.profile, "aws_session_token") != "" || profileValue(b, d.profile, "aws_secret_access_key") != "":
		return &BlockedError{Reason: fmt.Sprintf("profile %s of %s holds other credentials: writing the new key there would replace them; choose another profile (--to credentials:NAME)", d.profile, d.path)}
	}
	return nil
}

func (d *fileDest) Put(_ context.Context, k NewKey) error {
	old, err := os.ReadFile(d.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", d.path, err)
	}
	// What the profile held is kept before it is overwritten, so that a
	// wrong profile costs a copy back, not a lost secret. A repeated put of
	// the same key overwrites nothing new.
	if held := profileValue(old, d.profile, "aws_access_key_id"); held != "" && held != k.AccessKeyID {
		backup, err := writeBackup(d.path, old)
		if err != nil {
			return err
		}
		d.backup = backup
	}
	data := setProfile(old, d.profile, map[string]string{"aws_access_key_id": k.AccessKeyID, "aws_secret_access_key": k.secret})
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(d.path), err)
	}
	return writeFileAtomic(d.path, ".credentials-*", data)
}

// writeBackup keeps data beside path as path.keyleak-backup-N (the first N
// free), mode 0600, and returns its name.
func writeBackup(path string, data []byte) (string, error) {
	for n := 1; n < 1000; n++ {
		name := fmt.Sprintf("%s.keyleak-backup-%d", path, n)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("back up %s: too many backups beside it; remove old %s.keyleak-backup-* files", path, path)
}

// writeFileAtomic replaces path with data (temporary file, sync, rename),
// mode 0600: a crash leaves the old file or the new one.
func writeFileAtomic(path, pattern string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
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
	// Every line is kept whatever its length: a scanner with a line limit
	// would stop at a long line and drop the profiles after it.
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		line = strings.TrimSuffix(line, "\r")
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
