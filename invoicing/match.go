package invoicing

import (
	"sort"

	"github.com/cxmlgate/punchout/internal/money"
)

// InvoiceKind says which PO line item types an invoice may go to.
type InvoiceKind string

// Invoice kinds.
const (
	// OutOfCycle invoices bill upfront, annual and FPS charges when due.
	OutOfCycle InvoiceKind = "out_of_cycle"
	// Monthly invoices bill pay-as-you-go usage of a month.
	Monthly InvoiceKind = "monthly"
)

// specificity ranks the line item types an invoice kind fits, most
// specific first; a type not listed does not fit. A marketplace
// transaction line item names one purchase; a blanket usage line item is
// for marketplace charges in general; subscription and monthly usage are
// the general types of each kind; "all" fits anything.
var specificity = map[InvoiceKind]map[LineItemType]int{
	OutOfCycle: {LineMarketplaceTransaction: 4, LineMarketplaceBlanketUsage: 3, LineSubscription: 2, LineAll: 1},
	Monthly:    {LineMarketplaceBlanketUsage: 3, LineMonthlyUsage: 2, LineAll: 1},
}

// MatchInput is what matching knows of an invoice.
type MatchInput struct {
	OrganizationID string
	BillFrom       string
	// Period is the billing month, YYYY-MM.
	Period string
	Kind   InvoiceKind
	// Amount is the invoice's total; a line item in another currency
	// does not take it.
	Amount money.Amount
}

// MatchPO is a candidate purchase order with its line items.
type MatchPO struct {
	Number          string
	BillFrom        string
	AdminStatus     string
	EffectiveMonth  string
	ExpirationMonth string
	Lines           []LineItem
}

// MatchResult is the PO line item an invoice goes to.
type MatchResult struct {
	PONumber   string
	LineItemID string
	Type       LineItemType
}

// Match picks the PO line item an invoice goes to, or none (ok false). An
// invoice carries at most one PO. The rules, in order:
//
//  1. drop suspended POs and POs not in effect in the billing period
//     (expired, or not yet effective);
//  2. keep POs whose bill-from entity is the invoice's (a PO without one,
//     such as one created from an order, accepts any);
//  3. keep line items whose start..end months contain the billing period,
//     whose type fits the invoice kind and whose currency, where they
//     have one, is the invoice's (a balance is never drawn down in
//     another currency);
//  4. prefer the most specific type (marketplace transaction, then
//     marketplace blanket usage, then subscription or monthly usage, then
//     all);
//  5. then a line item with enough balance for the invoice (a line item
//     without balance tracking always has enough);
//  6. then, as the documented tie-break, the PO that expires first (so
//     that a PO is used up before it lapses), then the lower PO number,
//     then the lower line item ID: the same inputs always give the same PO.
func Match(in MatchInput, pos []MatchPO) (MatchResult, bool) {
	type cand struct {
		po    *MatchPO
		li    *LineItem
		spec  int
		funds bool
	}
	fits := specificity[in.Kind]
	var cands []cand
	for i := range pos {
		po := &pos[i]
		if po.AdminStatus == StatusSuspended || po.ExpirationMonth < in.Period || po.EffectiveMonth > in.Period {
			continue
		}
		if po.BillFrom != "" && po.BillFrom != in.BillFrom {
			continue
		}
		for j := range po.Lines {
			li := &po.Lines[j]
			spec, ok := fits[li.Type]
			if !ok || li.StartMonth > in.Period || li.EndMonth < in.Period {
				continue
			}
			if li.Currency != "" && li.Currency != in.Amount.Currency() {
				continue
			}
			// A line item without a currency yet takes the invoice's.
			balance, err := li.Balance.In(in.Amount.Currency())
			if err != nil {
				continue
			}
			funds := true
			if balance.IsSet() {
				cmp, err := balance.Cmp(in.Amount)
				funds = err == nil && cmp >= 0
			}
			cands = append(cands, cand{po: po, li: li, spec: spec, funds: funds})
		}
	}
	if len(cands) == 0 {
		return MatchResult{}, false
	}
	sort.SliceStable(cands, func(a, b int) bool {
		x, y := cands[a], cands[b]
		switch {
		case x.spec != y.spec:
			return x.spec > y.spec
		case x.funds != y.funds:
			return x.funds
		case x.po.ExpirationMonth != y.po.ExpirationMonth:
			return x.po.ExpirationMonth < y.po.ExpirationMonth
		case x.po.Number != y.po.Number:
			return x.po.Number < y.po.Number
		}
		return x.li.ID < y.li.ID
	})
	best := cands[0]
	return MatchResult{PONumber: best.po.Number, LineItemID: best.li.ID, Type: best.li.Type}, true
}
