package caseview

import (
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/bill"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/resource"
)

// BillItems are what the bill prices: the instances of the report's
// resources not made by the workload, each from its creation until keyleak
// removed it, until it was found gone (an upper bound: then counted until
// now), or still running. f gives their instance types.
func BillItems(m *report.Model, f *assess.Findings) []bill.Item {
	if f == nil {
		return nil
	}
	type info struct {
		itype   string
		verdict assess.Verdict
	}
	byKey := map[string]info{}
	for _, r := range f.Resources {
		if r.Type == resource.TypeInstance {
			byKey[r.Region+"|"+r.ID] = info{r.Details["instanceType"], r.Verdict}
		}
	}
	var out []bill.Item
	for _, r := range m.Resources {
		in, ok := byKey[r.Region+"|"+r.ID]
		if r.Type != resource.TypeInstance || !ok || in.verdict == assess.Legitimate {
			continue
		}
		it := bill.Item{Type: r.Type, ID: r.ID, Region: r.Region, InstanceType: in.itype, Start: r.CreatedAt}
		switch r.State {
		case report.StatePresent, report.StateUnknown:
			it.Present = true
		case report.StateRemoved:
			it.End = r.RemovedAt
		default:
			it.EndUnknown = true
		}
		out = append(out, it)
	}
	return out
}

// reportBill is the bill as the report shows it.
func reportBill(b *bill.Bill) *report.Bill {
	if b == nil {
		return nil
	}
	out := &report.Bill{At: b.At, PresentHourlyUSD: b.PresentHourlyUSD, PresentCount: b.PresentCount,
		PresentCostUSD: b.PresentCostUSD, RemovedCostUSD: b.RemovedCostUSD, RemovedHourlyUSD: b.RemovedHourlyUSD,
		RemovedCount: b.RemovedCount, PriceSource: b.PriceSource, PricingError: b.PricingError, Unpriced: b.Unpriced}
	for _, l := range b.Lines {
		out.Lines = append(out.Lines, report.CostLine{Type: l.Type, ID: l.ID, Region: l.Region, InstanceType: l.InstanceType,
			Start: l.Start, End: l.End, EndUnknown: l.EndUnknown, Present: l.Present, HourlyUSD: l.HourlyUSD,
			PriceSource: l.PriceSource, PriceRegion: l.PriceRegion, Hours: l.Hours, CostUSD: l.CostUSD})
	}
	if s := b.Spend; s != nil {
		out.Spend = &report.Spend{Start: s.Start, End: s.End, TotalUSD: s.TotalUSD, Estimated: s.Estimated, Error: s.Error}
		for _, l := range s.Lines {
			out.Spend.Lines = append(out.Spend.Lines, report.SpendLine{Service: l.Service, Region: l.Region, AmountUSD: l.AmountUSD})
		}
	}
	return out
}

// SetBill puts the bill into the report's model.
func SetBill(m *report.Model, b *bill.Bill) { m.Bill = reportBill(b) }

// reportSecrets is the rotate-these list as the report shows it.
func reportSecrets(in []assess.SecretRead) []report.SecretRead {
	out := make([]report.SecretRead, 0, len(in))
	for _, s := range in {
		rs := report.SecretRead{Kind: s.Kind, Name: s.Name, Region: s.Region}
		for _, r := range s.Reads {
			rs.Reads = append(rs.Reads, report.SecretAccess{Time: r.Time, EventID: r.EventID, EventName: r.EventName,
				SourceIP: r.SourceIP, AccessKeyID: r.AccessKeyID, Verdict: report.Verdict(r.Verdict)})
		}
		out = append(out, rs)
	}
	return out
}

// Since is when the bill's spend starts: the leak, or the first attacker
// call, or the first priced item's start; zero when none is known.
func Since(m *report.Model, items []bill.Item) time.Time {
	if !m.Case.LeakedAt.IsZero() {
		return m.Case.LeakedAt
	}
	if m.Stats != nil && m.Stats.FirstAttacker != nil {
		return m.Stats.FirstAttacker.Time
	}
	var first time.Time
	for _, it := range items {
		if first.IsZero() || (!it.Start.IsZero() && it.Start.Before(first)) {
			first = it.Start
		}
	}
	return first
}
