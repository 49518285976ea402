package autorespond

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// inbox records what is posted to it: the SNS topic's HTTP subscription
// and the chat webhook.
type inbox struct {
	mu    sync.Mutex
	posts []string
}

func (b *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.posts = append(b.posts, string(body))
	b.mu.Unlock()
}

func (b *inbox) all() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.posts, "\n")
}

type world struct {
	srv     *awssim.Server
	h       *Handler
	s3      *s3.Client
	topic   *inbox
	chat    *inbox
	event   []byte
	bucket  string
	key     string
	workDir string
}

// newWorld is the deployed function as a test can have it: the engine on
// the simulated account of github-push (its attacker acting), the case
// bucket and the summary topic in moto_server, the topic's HTTP
// subscriber and the chat webhook on loopback.
func newWorld(t testing.TB, opts ...awssim.Option) *world {
	t.Helper()
	return newWorldIn(t, mototest.Start(t), "keyleak-cases", opts...)
}

// newWorldIn is newWorld on a running moto_server, with its own bucket.
func newWorldIn(t testing.TB, moto *mototest.Server, bucket string, opts ...awssim.Option) *world {
	t.Helper()
	sc, err := awssim.LoadScenario("github-push")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, append([]awssim.Option{awssim.WithLookupRate(100, 100)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	sim.StartActors(20 * time.Millisecond)
	cfg := srv.Config(sim.Responder(), "us-east-1")
	cfg.RetryMaxAttempts = 3
	clients := awsapi.NewClients(cfg)

	ctx := context.Background()
	mcfg := moto.Config("AKIAIOSFODNN7EXAMPLE", "moto-secret", "us-east-1")
	s3c := s3.NewFromConfig(mcfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	snsc := sns.NewFromConfig(mcfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(bucket + "-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv, s3: s3c, topic: &inbox{}, chat: &inbox{}, bucket: bucket, key: sim.LeakedKey(), workDir: t.TempDir()}
	topicSrv := httptest.NewServer(w.topic)
	t.Cleanup(topicSrv.Close)
	chatSrv := httptest.NewServer(w.chat)
	t.Cleanup(chatSrv.Close)
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(topicSrv.URL)}); err != nil {
		t.Fatal(err)
	}
	ev, ok := sim.HealthEvent()
	if !ok {
		t.Fatal("github-push declares no detection")
	}
	w.event = ev
	w.h = &Handler{
		Engine:     respond.New(func(context.Context) (*awsapi.Clients, error) { return clients, nil }),
		S3:         s3c,
		Bucket:     bucket,
		Prefix:     "cases/",
		SNS:        snsc,
		Topic:      aws.ToString(topic.TopicArn),
		Webhook:    chatSrv.URL + "/services/T000/B000/XXXX",
		WorkDir:    w.workDir,
		LookupRate: 50,
	}
	return w
}

// invoke calls the handler as Lambda does, with the 15-minute deadline.
func (w *world) invoke(t *testing.T) Output {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out, err := w.h.Handle(ctx, w.event)
	if err != nil {
		t.Fatalf("Handle: %v (%+v)", err, out)
	}
	return out
}

// object reads a case file from the bucket.
func (w *world) object(t *testing.T, name string) []byte {
	t.Helper()
	out, err := w.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String("cases/" + w.key + "/" + name)})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHandlerRespondsToHealthEvent is the proof: the handler,
// given AWS's Health event for github-push's key, contains the key and
// every credential the attacker holds (each refused by AWS afterwards),
// leaves the case and its reports in the bucket, and publishes the summary;
// invoked again with the same event it does nothing twice, and the
// journal in the bucket carries on the same chain.
func TestHandlerRespondsToHealthEvent(t *testing.T) {
	w := newWorld(t)
	out := w.invoke(t)
	if len(out.Cases) != 1 || !out.Cases[0].Complete || out.Cases[0].Case != "s3://keyleak-cases/cases/"+w.key+"/" {
		t.Fatalf("output %+v", out)
	}

	// Every credential of the attacker is refused now (GetCallerIdentity
	// aside, which no policy can deny).
	truth := w.srv.Sim.Truth()
	attacker := []string{w.key}
	for _, k := range truth.DerivedKeys {
		attacker = append(attacker, k.AccessKeyID)
	}
	if len(attacker) < 3 {
		t.Fatalf("github-push's attacker holds %d credentials, want the key, a session and a backdoor key", len(attacker))
	}
	for _, id := range attacker {
		cred, ok := w.srv.Sim.Key(id)
		if !ok {
			t.Fatalf("no credential %s", id)
		}
		cfg := w.srv.Config(cred, "us-east-1")
		if _, err := ec2.NewFromConfig(cfg).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err == nil {
			t.Errorf("%s (%s) still works after the handler", id, cred.Via)
		}
	}

	// The case is in the bucket: the event, the journal (intact), the
	// reports with where the key was found.
	for _, name := range []string{casefileTrigger, playbook.JournalFile, playbook.EventsFile, "contain.json", "findings.json", "report.md", "report.xlsx", "report.json"} {
		if len(w.object(t, name)) == 0 {
			t.Errorf("%s is empty in the bucket", name)
		}
	}
	const url = "https://github.com/acme-shop/deploy-pipeline/blob/5f1c2e7/ci/deploy.sh"
	if !strings.Contains(string(w.object(t, "report.md")), url) {
		t.Error("report.md in the bucket does not say where the key was found")
	}
	first := verifyJournal(t, w.object(t, playbook.JournalFile))

	// The summary reached the topic's subscriber and the chat.
	waitFor(t, func() bool { return strings.Contains(w.topic.all(), "Left for a person") })
	for name, got := range map[string]string{"topic": w.topic.all(), "chat": w.chat.all()} {
		if !strings.Contains(got, w.key) || !strings.Contains(got, "keyleak eradicate") {
			t.Errorf("the %s got no summary naming the key and what is left:\n%s", name, got)
		}
		for _, id := range attacker {
			cred, _ := w.srv.Sim.Key(id)
			if strings.Contains(got, cred.Secret) || (cred.SessionToken != "" && strings.Contains(got, cred.SessionToken)) {
				t.Errorf("the %s got a secret", name)
			}
		}
	}

	// A retry in a fresh container: the case comes from the bucket,
	// nothing is done twice, the journal goes on from where it was.
	if err := os.RemoveAll(w.workDir); err != nil {
		t.Fatal(err)
	}
	resp := w.srv.Sim.Responder()
	before := w.srv.Sim.Truth()
	w.invoke(t)
	if writes := writesBy(w.srv.Sim.Truth(), resp.AccessKeyID, before); len(writes) > 0 {
		t.Errorf("the second invocation made write calls: %v", writes)
	}
	second := verifyJournal(t, w.object(t, playbook.JournalFile))
	if second.Entries <= first.Entries {
		t.Errorf("the journal has %d entries after the retry, %d before", second.Entries, first.Entries)
	}
	if j := string(w.object(t, playbook.JournalFile)); !strings.Contains(j, `"prev":"`+first.Head+`"`) && !strings.Contains(j, first.Head) {
		t.Errorf("the retry's journal does not carry on from the first run's head %s", first.Head)
	}
}

// TestHandlerRefuses: an event it cannot respond to changes nothing, says
// why in the summary, and returns no error (a retry would refuse it too).
func TestHandlerRefuses(t *testing.T) {
	w := newWorld(t)
	resp := w.srv.Sim.Responder()
	for _, tc := range []struct{ name, event, says string }{
		{"malformed", `{"source":"aws.health","detail":`, "not a JSON object"},
		{"another account", strings.ReplaceAll(string(w.event), w.srv.Sim.AccountID(), "111122223333"), "account 111122223333"},
		{"no such key", strings.ReplaceAll(string(w.event), w.key, "AKIAZZZZZZZZZZZZZZZZ"), "not found in account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.srv.Sim.Truth()
			out, err := w.h.Handle(context.Background(), json.RawMessage(tc.event))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if len(out.Cases) > 0 {
				t.Errorf("cases %+v", out.Cases)
			}
			if writes := writesBy(w.srv.Sim.Truth(), resp.AccessKeyID, before); len(writes) > 0 {
				t.Errorf("write calls: %v", writes)
			}
			waitFor(t, func() bool { return strings.Contains(w.chat.all(), tc.says) })
		})
	}
	list, err := w.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) > 0 {
		t.Errorf("refused events left %s in the bucket", aws.ToString(list.Contents[0].Key))
	}
}

const casefileTrigger = "trigger.json"

func verifyJournal(t *testing.T, b []byte) playbook.VerifyResult {
	t.Helper()
	path := filepath.Join(t.TempDir(), playbook.JournalFile)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := playbook.Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("the journal in the bucket: %s", res)
	}
	return res
}

// waitFor polls cond a bounded number of times: moto delivers to HTTP
// subscribers on its own thread.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("not delivered after 200 polls")
}

// writesBy lists the successful write calls a key made since earlier.
func writesBy(tr awssim.Truth, key string, earlier awssim.Truth) []string {
	old := map[string]bool{}
	for _, e := range earlier.Events {
		old[e.EventID] = true
	}
	var out []string
	for _, e := range tr.Events {
		if e.AccessKeyID != key || old[e.EventID] || e.ErrorCode != "" {
			continue
		}
		write := true
		for _, p := range []string{"Get", "List", "Describe", "Lookup"} {
			write = write && !strings.HasPrefix(e.EventName, p)
		}
		if write {
			out = append(out, e.EventName)
		}
	}
	return out
}
