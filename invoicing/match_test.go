package invoicing_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/invoicing"
)

// line is a line item with a balance in no currency yet ("" for none).
func line(id string, typ invoicing.LineItemType, start, end, balance string) invoicing.LineItem {
	b, err := money.ParseBare(balance)
	if err != nil {
		panic(err)
	}
	return invoicing.LineItem{ID: id, Type: typ, StartMonth: start, EndMonth: end, Balance: b}
}

func po(number, billFrom, status, eff, exp string, lines ...invoicing.LineItem) invoicing.MatchPO {
	return invoicing.MatchPO{Number: number, BillFrom: billFrom, AdminStatus: status, EffectiveMonth: eff, ExpirationMonth: exp, Lines: lines}
}

// One test per matching rule and per scenario of the seeds' tables.
func TestMatch(t *testing.T) {
	usage := invoicing.MatchInput{OrganizationID: "o", BillFrom: "Marketplace LLC", Period: "2026-11", Kind: invoicing.Monthly, Amount: money.MustParse("500.00", "USD")}
	oneOff := usage
	oneOff.Kind = invoicing.OutOfCycle
	tests := []struct {
		name string
		in   invoicing.MatchInput
		pos  []invoicing.MatchPO
		want string // "PO/line" or "" for none
	}{
		{"no PO at all", usage, nil, ""},
		{"blanket usage PO matches usage",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""))}, "B1/l1"},
		{"suspended PO is not used (seed: suspended POs are not used for invoice association)",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "suspended", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""))}, ""},
		{"expired PO is not used (seed: once past its expiration it is no longer used)",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "active", "2026-01", "2026-10", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""))}, ""},
		{"PO not yet effective is not used",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "active", "2026-12", "2027-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2027-12", ""))}, ""},
		{"bill-from entity must match",
			usage, []invoicing.MatchPO{po("B1", "AWS Inc", "active", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""))}, ""},
		{"a PO without bill-from accepts any",
			usage, []invoicing.MatchPO{po("B1", "", "active", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""))}, "B1/l1"},
		{"line item months must contain the billing period",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-10", ""))}, ""},
		{"type must fit: a marketplace transaction line item does not take usage",
			usage, []invoicing.MatchPO{po("T1", "Marketplace LLC", "active", "2026-01", "2026-12", line("l1", invoicing.LineMarketplaceTransaction, "2026-01", "2026-12", ""))}, ""},
		{"type must fit: monthly usage does not take an out-of-cycle invoice",
			oneOff, []invoicing.MatchPO{po("U1", "Marketplace LLC", "active", "2026-01", "2026-12", line("l1", invoicing.LineMonthlyUsage, "2026-01", "2026-12", ""))}, ""},
		{"ALL fits anything",
			oneOff, []invoicing.MatchPO{po("A1", "Marketplace LLC", "active", "2026-01", "2026-12", line("l1", invoicing.LineAll, "2026-01", "2026-12", ""))}, "A1/l1"},
		{"most specific type wins over balance and expiry",
			usage, []invoicing.MatchPO{
				po("A1", "Marketplace LLC", "active", "2026-01", "2026-11", line("a", invoicing.LineAll, "2026-01", "2026-12", "")),
				po("U1", "Marketplace LLC", "active", "2026-01", "2026-12", line("u", invoicing.LineMonthlyUsage, "2026-01", "2026-12", "")),
				po("B1", "Marketplace LLC", "active", "2026-01", "2027-12", line("b", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2027-12", "10.00")),
			}, "B1/b"},
		{"then enough balance",
			usage, []invoicing.MatchPO{
				po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("b1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "100.00")),
				po("B2", "Marketplace LLC", "active", "2026-01", "2027-12", line("b2", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2027-12", "900.00")),
			}, "B2/b2"},
		{"balance is not decisive when no line item has enough (seed: the PO keeps being associated)",
			usage, []invoicing.MatchPO{po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("b1", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "0.00"))}, "B1/b1"},
		{"tie-break: the PO that expires first",
			usage, []invoicing.MatchPO{
				po("B2", "Marketplace LLC", "active", "2026-01", "2027-06", line("x", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2027-06", "")),
				po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("y", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "")),
			}, "B1/y"},
		{"tie-break: then the lower PO number, then the lower line item ID",
			usage, []invoicing.MatchPO{
				po("B9", "Marketplace LLC", "active", "2026-01", "2026-12", line("a", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "")),
				po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("z", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", ""), line("c", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "")),
			}, "B1/c"},
		{"out-of-cycle prefers the marketplace transaction line item (seed: except out-of-cycle bills with a transaction PO)",
			oneOff, []invoicing.MatchPO{
				po("B1", "Marketplace LLC", "active", "2026-01", "2026-12", line("b", invoicing.LineMarketplaceBlanketUsage, "2026-01", "2026-12", "")),
				po("T1", "Marketplace LLC", "active", "2026-01", "2027-12", line("t", invoicing.LineMarketplaceTransaction, "2026-01", "2027-12", "")),
			}, "T1/t"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := invoicing.Match(tc.in, tc.pos)
			if tc.want == "" {
				assert.False(t, ok, "matched %+v", got)
				return
			}
			if assert.True(t, ok) {
				assert.Equal(t, tc.want, got.PONumber+"/"+got.LineItemID)
			}
			// The same inputs in another order give the same answer.
			rev := append([]invoicing.MatchPO(nil), tc.pos...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			again, _ := invoicing.Match(tc.in, rev)
			assert.Equal(t, got, again, "deterministic")
		})
	}
}

// A line item in one currency never takes an invoice in another: its
// balance would be drawn down in the wrong money.
func TestMatchKeepsToTheInvoiceCurrency(t *testing.T) {
	jpy := line("jpy", invoicing.LineMonthlyUsage, "2026-01", "2026-12", "5000")
	jpy.Currency = "JPY"
	bhd := line("bhd", invoicing.LineMonthlyUsage, "2026-01", "2026-12", "15.000")
	bhd.Currency = "BHD"
	all := line("any", invoicing.LineAll, "2026-01", "2026-12", "")
	pos := []invoicing.MatchPO{po("P1", "", "active", "2026-01", "2026-12", jpy, bhd, all)}
	for _, tc := range []struct{ currency, want string }{{"BHD", "bhd"}, {"jpy", "jpy"}, {"USD", "any"}} {
		in := invoicing.MatchInput{OrganizationID: "o", Period: "2026-11", Kind: invoicing.Monthly, Amount: money.MustParse("1", tc.currency)}
		m, ok := invoicing.Match(in, pos)
		assert.True(t, ok, tc.currency)
		assert.Equal(t, tc.want, m.LineItemID, tc.currency)
	}
}
