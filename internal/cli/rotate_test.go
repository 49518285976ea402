package cli

import (
	"context"
	"encoding/json"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/rotate"
)

// dirBytes is every file under dir, concatenated.
func dirBytes(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}

// rotateSim is a simulated account with a responder and a workload user
// "app" with one healthy key.
func rotateSim(t *testing.T) (*awssim.Server, awssim.Credential, awssim.Credential, func() time.Time) {
	t.Helper()
	now := time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)
	clk := func() time.Time { return now }
	sim := awssim.New(awssim.WithClock(clk))
	for _, u := range []string{"ops", "app"} {
		if err := sim.AddUser(u, now.AddDate(-1, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	ops, _ := sim.AddAccessKey("ops", now.AddDate(0, -1, 0), "")
	app, _ := sim.AddAccessKey("app", now.AddDate(0, 0, -200), "")
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, *ops, *app, clk
}

func activeKeys(t *testing.T, c *iam.Client, user string) map[string]string {
	t.Helper()
	out, err := c.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, k := range out.AccessKeyMetadata {
		m[aws.ToString(k.AccessKeyId)] = string(k.Status)
	}
	return m
}

func TestRotateToCredentialsFile(t *testing.T) {
	srv, ops, app, clk := rotateSim(t)
	creds := filepath.Join(t.TempDir(), "aws", "credentials")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	dir := t.TempDir()
	code, out, errOut := runRecovery(t, simFactory(srv, ops, clk), "rotate", "--key", app.AccessKeyID, "--to", "credentials:app", "--yes", "--watch", "0", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	keys := activeKeys(t, iam.NewFromConfig(srv.Config(ops, "us-east-1")), "app")
	var newID string
	for id := range keys {
		newID = id
	}
	if len(keys) != 1 || newID == app.AccessKeyID || keys[newID] != "Active" {
		t.Fatalf("keys of app: %v, want exactly one new active key", keys)
	}
	secret := func() string { k, _ := srv.Sim.Key(newID); return k.Secret }()
	st, err := os.Stat(creds)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", st, err)
	}
	data, _ := os.ReadFile(creds)
	if !strings.Contains(string(data), "aws_access_key_id = "+newID) || !strings.Contains(string(data), "aws_secret_access_key = "+secret) {
		t.Errorf("credentials file:\n%s", data)
	}
	// Nowhere else: not printed, not in the case, not in Secrets Manager.
	if strings.Contains(out+errOut, secret) || strings.Contains(dirBytes(t, dir), secret) {
		t.Error("the secret leaked into the output or the case")
	}
	if _, err := secretsmanager.NewFromConfig(srv.Config(ops, "us-east-1")).DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("app")}); err == nil {
		t.Error("a secret was made in Secrets Manager")
	}
	for _, want := range []string{"aws-vault", "Done:", newID} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRotateToSecretsManagerJSON(t *testing.T) {
	srv, ops, app, clk := rotateSim(t)
	creds := filepath.Join(t.TempDir(), "credentials")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	dir := t.TempDir()
	code, out, errOut := runRecovery(t, simFactory(srv, ops, clk), "rotate", "--key", app.AccessKeyID, "--to", "secretsmanager:ci/app", "--dir", dir, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sum rotate.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.NewKeyID == "" || !strings.Contains(sum.Next, "switch the workload") {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	secret := func() string { k, _ := srv.Sim.Key(sum.NewKeyID); return k.Secret }()
	got, err := secretsmanager.NewFromConfig(srv.Config(ops, "us-east-1")).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("ci/app")})
	if err != nil || !strings.Contains(aws.ToString(got.SecretString), secret) {
		t.Fatalf("secret in Secrets Manager: %v", err)
	}
	if _, err := os.Stat(creds); err == nil || strings.Contains(out+errOut, secret) || strings.Contains(dirBytes(t, dir), secret) {
		t.Error("the secret went somewhere else too")
	}
}

func TestRotateToStdoutPrintsOnce(t *testing.T) {
	t.Parallel()
	srv, ops, app, clk := rotateSim(t)
	dir := t.TempDir()
	code, out, errOut := runRecovery(t, simFactory(srv, ops, clk), "rotate", "--key", app.AccessKeyID, "--to", "stdout", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var newID string
	for id := range activeKeys(t, iam.NewFromConfig(srv.Config(ops, "us-east-1")), "app") {
		if id != app.AccessKeyID {
			newID = id
		}
	}
	k, _ := srv.Sim.Key(newID)
	if strings.Count(out, k.Secret) != 1 || strings.Contains(errOut, k.Secret) {
		t.Errorf("secret printed %d times", strings.Count(out, k.Secret))
	}
	// Resuming never prints it again.
	_, out, _ = runRecovery(t, simFactory(srv, ops, clk), "rotate", "--key", app.AccessKeyID, "--to", "stdout", "--dir", dir)
	if strings.Contains(out, k.Secret) {
		t.Error("the secret was printed a second time")
	}
}

func TestRotateUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"rotate", "--key", "AKIAIOSFODNN7EXAMPLE"},
		{"rotate", "--key", "AKIAIOSFODNN7EXAMPLE", "--to", "s3:bucket"},
		{"rotate", "--key", "AKIAIOSFODNN7EXAMPLE", "--to", "secretsmanager:"},
		{"rotate", "--key", "AKIAIOSFODNN7EXAMPLE", "--to", "stdout", "-o", "json"},
		{"rotate", "--key", "AKIAIOSFODNN7EXAMPLE", "--to", "stdout", "--watch", "soon"},
		{"rotate", "--key", "nope", "--to", "stdout"},
	} {
		f := &Factory{loadConfig: func(context.Context, awsapi.Options) (aws.Config, error) {
			t.Fatalf("%v: AWS configuration loaded for a usage error", args)
			return aws.Config{}, nil
		}}
		if code, _, errOut := runRecovery(t, f, args...); code != ExitUsage || errOut == "" {
			t.Errorf("%v: exit %d, %q", args[1:], code, errOut)
		}
	}
}

func TestRotateAgainstMoto(t *testing.T) {
	moto := mototest.Start(t)
	ctx := context.Background()
	cfg := moto.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1")
	admin := iam.NewFromConfig(cfg)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	made, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	old := aws.ToString(made.AccessKey.AccessKeyId)
	creds := filepath.Join(t.TempDir(), "credentials")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	f := &Factory{Now: time.Now, loadConfig: func(context.Context, awsapi.Options) (aws.Config, error) { return cfg, nil }}
	dir := t.TempDir()
	code, out, errOut := runRecovery(t, f, "rotate", "--key", old, "--to", "secretsmanager:app/aws", "--yes", "--watch", "0", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("rotate against moto: exit %d\n%s\n%s", code, out, errOut)
	}
	keys := activeKeys(t, admin, "app")
	var newID string
	for id := range keys {
		newID = id
	}
	if len(keys) != 1 || newID == old || keys[newID] != "Active" {
		t.Fatalf("moto keys of app: %v\n%s", keys, out)
	}
	got, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/aws")})
	if err != nil || !strings.Contains(aws.ToString(got.SecretString), `"AccessKeyId":"`+newID+`"`) {
		t.Fatalf("moto secret: %v %q", err, aws.ToString(got.SecretString))
	}
	var v struct{ SecretAccessKey string }
	_ = json.Unmarshal([]byte(aws.ToString(got.SecretString)), &v)
	if v.SecretAccessKey == "" || strings.Contains(out+errOut, v.SecretAccessKey) || strings.Contains(dirBytes(t, dir), v.SecretAccessKey) {
		t.Error("the secret is missing from Secrets Manager or present elsewhere")
	}
	if _, err := os.Stat(creds); err == nil {
		t.Error("a credentials file was written")
	}
}
