package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/trail"
)

// Log files in an S3 bucket, in the layout CloudTrail writes, read through
// the SDK from moto_server: the OTRF breach's stolen key and its 11 events.
func TestInvestigateLogsInS3(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	moto := mototest.Start(t)
	ctx := context.Background()
	cfg := moto.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1")
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "otrf.json.gz")
	writeDatasetAsLog(t, "../../trail/testdata/otrf_security_datasets.jsonl.gz", local)
	body, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	// The OTRF records are of 2020-09-14: put them where CloudTrail would,
	// and a second copy in another file of the day, to check that events
	// found twice are kept once.
	for _, key := range []string{
		"AWSLogs/123456789012/CloudTrail/us-east-1/2020/09/14/123456789012_CloudTrail_us-east-1_20200914T0000Z_a.json.gz",
		"AWSLogs/123456789012/CloudTrail/us-east-1/2020/09/14/123456789012_CloudTrail_us-east-1_20200914T0005Z_b.json.gz",
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	simAWS(t, moto.URL, "AKIAIOSFODNN7EXAMPLE", "secret")
	code, out, errOut := run(t, "investigate", "--key", "ASIA5FLZVX4OPVKKVBMX", "--logs", "s3://trail-logs/AWSLogs/",
		"--since", "2000-01-01T00:00:00Z", "--offline", "--dir", t.TempDir(), "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res trail.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range res.Events {
		if e.AccessKeyID == "ASIA5FLZVX4OPVKKVBMX" {
			if seen[e.EventID] {
				t.Errorf("event %s twice", e.EventID)
			}
			seen[e.EventID] = true
		}
	}
	if len(seen) != 11 {
		t.Errorf("found %d events of the stolen key in S3, want 11", len(seen))
	}
}
