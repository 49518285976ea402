package autorespond

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/respond"
)

// The function's configuration, from its environment (the CloudFormation
// template in examples/auto-response sets them).
const (
	EnvBucket  = "KEYLEAK_CASE_BUCKET"   // required: the bucket the cases live in
	EnvPrefix  = "KEYLEAK_CASE_PREFIX"   // default "cases/"
	EnvTopic   = "KEYLEAK_SNS_TOPIC_ARN" // the topic the summary goes to
	EnvWebhook = "KEYLEAK_CHAT_WEBHOOK_URL"
	EnvBudget  = "KEYLEAK_BUDGET" // the investigation's budget, e.g. 8m (default 5m)
)

// Version is keyleak's version, set at build time like the command's
// (-X github.com/keyleak/keyleak/internal/autorespond.Version=…).
var Version = ""

// FromEnv builds the handler from the function's environment and its
// role's credentials. It calls no AWS service.
func FromEnv(ctx context.Context) (*Handler, error) {
	bucket := os.Getenv(EnvBucket)
	if bucket == "" {
		return nil, fmt.Errorf("%s is not set: the function needs a bucket to keep its cases in", EnvBucket)
	}
	prefix := os.Getenv(EnvPrefix)
	if prefix == "" {
		prefix = "cases/"
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	budget := respond.DefaultBudget
	if s := os.Getenv(EnvBudget); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q is not a duration like 8m", EnvBudget, s)
		}
		budget = d
	}
	cfg, err := awsapi.Load(ctx, awsapi.Options{})
	if err != nil {
		return nil, err
	}
	clients := awsapi.NewClients(cfg)
	h := &Handler{
		Engine:  respond.New(func(context.Context) (*awsapi.Clients, error) { return clients, nil }, respond.WithVersion(version())),
		S3:      clients.S3(""),
		Bucket:  bucket,
		Prefix:  prefix,
		Topic:   os.Getenv(EnvTopic),
		Webhook: os.Getenv(EnvWebhook),
		HTTP:    &http.Client{Timeout: 15 * time.Second},
		WorkDir: os.TempDir(),
		Budget:  budget,
		Log:     log.New(os.Stderr, "", 0),
	}
	if h.Topic != "" {
		h.SNS = sns.NewFromConfig(cfg)
	}
	return h, nil
}

// Main runs the function: it returns only when the configuration is
// wrong, with the exit code, the message on stderr.
func Main() int {
	h, err := FromEnv(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "keyleak-lambda: %v\n", err)
		return 1
	}
	lambda.Start(h.Handle)
	return 0
}

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "devel"
}
