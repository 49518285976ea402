package cli

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/report"
)

// readReportJSON reads a case's report.json.
func readReportJSON(t *testing.T, caseDir string) *report.Document {
	t.Helper()
	f, err := os.Open(filepath.Join(caseDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReportBillAndSecretsOfGitHubPush: the github-push report's cost line
// is what the simulator's Price List answers (c5.4xlarge: 0.68/h in
// us-east-1, 0.768 in eu-west-1, 0.784 in ap-southeast-1, two of each
// still running), its spend is Cost Explorer's; denied the Price List by a
// policy, the report prices from the embedded table and says why. The
// secrets the bot read are listed to rotate, named and never valued.
func TestReportBillAndSecretsOfGitHubPush(t *testing.T) {
	t.Parallel()
	caseDir, srv := githubPushCase(t)
	// investigate says what to rotate too.
	code, out, errOut := run(t, "investigate", "--key", srv.Sim.LeakedKey(), "--case", caseDir, "--lookup-rate", "40")
	if code != ExitOK || !strings.Contains(out, "Secrets the keys read after the leak") || !strings.Contains(out, "prod/payments/api-key") ||
		!strings.Contains(out, "/prod/db/password") {
		t.Errorf("investigate: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md,json"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	d := readReportJSON(t, caseDir)
	b := d.Bill
	if b == nil {
		t.Fatal("report.json has no bill")
	}
	const listHourly = 2 * (0.68 + 0.768 + 0.784)
	if b.PriceSource != report.PriceList || b.PricingError != "" || b.PresentCount != 6 || math.Abs(b.PresentHourlyUSD-listHourly) > 1e-6 {
		t.Errorf("bill: %d present at %v/h from %q (%s); want 6 at %v/h from the Price List", b.PresentCount, b.PresentHourlyUSD,
			b.PriceSource, b.PricingError, listHourly)
	}
	// The instances ran since -2h18m: Cost Explorer charges what the bill
	// counts, at the same prices.
	if b.Spend == nil || b.Spend.Error != "" || math.Abs(b.Spend.TotalUSD-b.PresentCostUSD) > 0.01 || b.PresentCostUSD < 2*listHourly {
		t.Errorf("spend = %+v, want about the bill's %v", b.Spend, b.PresentCostUSD)
	}
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	wantLine := "| Running cost now | $4.464/h for 6 instances still present"
	if !strings.Contains(string(md), wantLine) || !strings.Contains(string(md), "| Prices | AWS Price List API (pricing:GetProducts)") {
		t.Errorf("report.md has no cost line %q:\n%s", wantLine, md)
	}

	// The rotate-these list: the Secrets Manager secret and the SSM
	// parameter, where and from where they were read.
	want := map[string]string{"prod/payments/api-key": "us-east-1", "/prod/db/password": "eu-west-1"}
	if len(d.SecretsRead) != len(want) {
		t.Fatalf("secretsRead = %+v, want %v", d.SecretsRead, want)
	}
	for _, s := range d.SecretsRead {
		if want[s.Name] != s.Region || len(s.Reads) != 1 || s.Reads[0].SourceIP != "45.155.205.233" || s.Reads[0].EventID == "" ||
			!strings.HasPrefix(s.Reads[0].AccessKeyID, "ASIA") {
			t.Errorf("secret read %+v", s)
		}
		if !strings.Contains(string(md), "`"+s.Name+"`") {
			t.Errorf("report.md does not name %s", s.Name)
		}
	}
	if !strings.Contains(string(md), "## Secrets the attacker read: rotate these") {
		t.Error("report.md has no rotate-these section")
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md", "--lang", "ja"); code != ExitOK {
		t.Fatalf("report ja: exit %d: %s", code, errOut)
	}
	ja, err := os.ReadFile(filepath.Join(caseDir, "report.ja.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ja), "| 現在の稼働コスト | 残存 6 台のインスタンスで毎時 $4.464") ||
		!strings.Contains(string(ja), "## 攻撃者が読み取ったシークレット（ローテーションしてください）") {
		t.Errorf("report.ja.md lacks the cost line or the rotate-these list:\n%s", ja)
	}

	// A policy denies the Price List to the responder: the embedded table
	// (us-east-1's 0.68/h for every c5.4xlarge), and the report says why.
	resp := srv.Sim.Responder()
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"pricing:GetProducts","Resource":"*"}]}`
	if _, err := iam.NewFromConfig(srv.Config(resp, "us-east-1")).PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
		UserName: aws.String("responder"), PolicyName: aws.String("no-price-list"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md,json"); code != ExitOK {
		t.Fatalf("report after deny: exit %d: %s", code, errOut)
	}
	b = readReportJSON(t, caseDir).Bill
	if b == nil || b.PriceSource != report.PriceTable || !strings.Contains(b.PricingError, "pricing:GetProducts was denied") ||
		math.Abs(b.PresentHourlyUSD-6*0.68) > 1e-6 {
		t.Fatalf("bill after deny = %+v", b)
	}
	md, err = os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| Running cost now | $4.080/h for 6 instances still present") ||
		!strings.Contains(string(md), "keyleak's table of on-demand Linux prices in us-east-1") ||
		!strings.Contains(string(md), "the Price List was not used: pricing:GetProducts was denied") {
		t.Errorf("report.md after deny:\n%s", md)
	}

	// Offline, a case never priced gets the table's prices and no spend;
	// one priced before keeps its last bill.
	if err := os.Remove(filepath.Join(caseDir, "bill.json")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "json", "--offline"); code != ExitOK {
		t.Fatalf("report --offline: exit %d: %s", code, errOut)
	}
	b = readReportJSON(t, caseDir).Bill
	if b == nil || b.PriceSource != report.PriceTable || b.PricingError != "" || b.Spend != nil || math.Abs(b.PresentHourlyUSD-6*0.68) > 1e-6 {
		t.Errorf("offline bill = %+v", b)
	}

	// No file of the case holds the secret's value.
	err = filepath.WalkDir(caseDir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), "sim-not-a-real-secret") {
			t.Errorf("%s holds the secret's value", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
