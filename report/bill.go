package report

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Bill is what the leak costs as of At: the running cost of the attacker's
// instances still present, what those removed cost while they ran, where
// the prices came from, and the account's actual spend since the leak
// (package bill computes it; the JSON shapes are the same).
type Bill struct {
	At               time.Time  `json:"at"`
	Lines            []CostLine `json:"lines"`
	PresentHourlyUSD float64    `json:"presentHourlyUSD"`
	PresentCount     int        `json:"presentCount"`
	PresentCostUSD   float64    `json:"presentCostUSD"`
	RemovedCostUSD   float64    `json:"removedCostUSD"`
	RemovedHourlyUSD float64    `json:"removedHourlyUSD"`
	RemovedCount     int        `json:"removedCount"`
	// PriceSource is PriceList, PriceTable or "mixed"; PricingError says
	// why the Price List was not used.
	PriceSource  string   `json:"priceSource"`
	PricingError string   `json:"pricingError,omitempty"`
	Unpriced     []string `json:"unpriced,omitempty"`
	Spend        *Spend   `json:"spend,omitempty"`
}

// Price sources of a Bill.
const (
	PriceList  = "price-list" // the AWS Price List API
	PriceTable = "table"      // keyleak's embedded us-east-1 table
)

// CostLine is one instance with its price and what it has cost.
type CostLine struct {
	Type         string    `json:"type"`
	ID           string    `json:"id"`
	Region       string    `json:"region"`
	InstanceType string    `json:"instanceType"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end,omitzero"`
	EndUnknown   bool      `json:"endUnknown,omitempty"`
	Present      bool      `json:"present"`
	HourlyUSD    float64   `json:"hourlyUSD"`
	PriceSource  string    `json:"priceSource"`
	PriceRegion  string    `json:"priceRegion,omitempty"`
	Hours        float64   `json:"hours"`
	CostUSD      float64   `json:"costUSD"`
}

// Spend is the account's spend from Cost Explorer, over whole UTC days.
type Spend struct {
	Start     string      `json:"start"`
	End       string      `json:"end"`
	TotalUSD  float64     `json:"totalUSD"`
	Lines     []SpendLine `json:"lines"`
	Estimated bool        `json:"estimated,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// SpendLine is one service in one region.
type SpendLine struct {
	Service   string  `json:"service"`
	Region    string  `json:"region"`
	AmountUSD float64 `json:"amountUSD"`
}

// SecretRead is a secret the leaked key or a key derived from it read: to
// rotate. It names the secret, never its value.
type SecretRead struct {
	// Kind is secretsmanager-secret, ssm-parameter, kms-key,
	// lambda-environment, ec2-user-data or s3-object.
	Kind   string         `json:"kind"`
	Name   string         `json:"name"`
	Region string         `json:"region"`
	Reads  []SecretAccess `json:"reads"`
}

// SecretAccess is one call that read a secret.
type SecretAccess struct {
	Time        time.Time `json:"time"`
	EventID     string    `json:"eventID"`
	EventName   string    `json:"eventName"`
	SourceIP    string    `json:"sourceIPAddress"`
	AccessKeyID string    `json:"accessKeyId"`
	Verdict     Verdict   `json:"verdict"`
}

// usd renders an amount in dollars and cents.
func usd(v float64) string { return fmt.Sprintf("$%.2f", v) }

// usdHour renders an hourly price with a tenth of a cent.
func usdHour(v float64) string { return fmt.Sprintf("$%.3f", v) }

// sourceIPs are the distinct source addresses of a secret's reads.
func (s SecretRead) sourceIPs() []string {
	var out []string
	for _, r := range s.Reads {
		if r.SourceIP != "" && !slices.Contains(out, r.SourceIP) {
			out = append(out, r.SourceIP)
		}
	}
	return out
}

// eventIDs are the event IDs of a secret's reads.
func (s SecretRead) eventIDs() string {
	ids := make([]string, 0, len(s.Reads))
	for _, r := range s.Reads {
		ids = append(ids, r.EventID)
	}
	return strings.Join(ids, ", ")
}

// first is the secret's first read (zero when it has none).
func (s SecretRead) first() SecretAccess {
	if len(s.Reads) == 0 {
		return SecretAccess{}
	}
	return s.Reads[0]
}
