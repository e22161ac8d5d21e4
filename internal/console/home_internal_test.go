package console

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/invoicing"
)

func TestPOConcern(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	usd := func(s string) money.Amount {
		if s == "" {
			return money.Amount{}
		}
		return money.MustParse(s, "USD")
	}
	li := func(amount, balance string) invoicing.LineItem {
		return invoicing.LineItem{ID: "li_1", Amount: usd(amount), Balance: usd(balance), Currency: "USD"}
	}
	tests := []struct {
		name       string
		expiration string
		items      []invoicing.LineItem
		want       string
	}{
		{name: "healthy", expiration: "2027-12", items: []invoicing.LineItem{li("1000.00", "800.00")}},
		{name: "exactly 75% left", expiration: "2027-12", items: []invoicing.LineItem{li("1000.00", "750.00")}},
		{name: "below 75%", expiration: "2027-12", items: []invoicing.LineItem{li("1000.00", "749.99")}, want: "line item li_1 has 749.99 USD of 1000.00 left (75%)"},
		{name: "untracked (marketplace)", expiration: "2027-12", items: []invoicing.LineItem{li("1000.00", "")}},
		{name: "expires at the end of this month", expiration: "2026-12", want: "expires at the end of 2026-12, in 30 days"},
		{name: "expires in 61 days", expiration: "2027-01", want: ""},
		{name: "expired", expiration: "2026-11"},
		{name: "both", expiration: "2026-12", items: []invoicing.LineItem{li("100", "10")}, want: "line item li_1 has 10.00 USD of 100.00 left (10%); expires at the end of 2026-12, in 30 days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			po := &invoicing.PurchaseOrder{ID: "PO-1", ExpirationMonth: tc.expiration, LineItems: tc.items}
			assert.Equal(t, tc.want, poConcern(po, now))
		})
	}
}
