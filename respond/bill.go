package respond

import (
	"context"

	"github.com/keyleak/keyleak/bill"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
)

// priceBill prices what the attacker's instances cost and reads the
// account's spend since the leak, keeps the bill in the case and puts it
// into the report's model. Online it asks the Price List and Cost
// Explorer (what either refuses, the bill says, and the embedded table
// prices); offline it keeps the last bill the case has, or prices from the
// table alone.
func (e *Engine) priceBill(ctx context.Context, c *playbook.Case, m *report.Model, online bool) error {
	f, err := casefile.LoadFindings(c)
	if err != nil || f == nil {
		return err
	}
	if !online && m.Bill != nil {
		return nil
	}
	items := caseview.BillItems(m, f)
	var o bill.Options
	if online {
		clients, err := e.Clients(ctx)
		if err != nil {
			return err
		}
		o = bill.Options{Pricing: clients.Pricing(), Cost: clients.CostExplorer(), Since: caseview.Since(m, items)}
	}
	b, err := bill.Compute(ctx, items, e.now(), o)
	if err != nil {
		return err
	}
	if err := casefile.SaveBill(c, b); err != nil {
		return err
	}
	caseview.SetBill(m, b)
	return nil
}
