package invoicing

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/golden"
	"github.com/cxmlgate/punchout/internal/mail"
)

// TestNoticeMailGolden renders the purchase order notices for
// representative data and compares subject and body with
// testdata/mail_*.golden, which hold the texts byte for byte.
func TestNoticeMailGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		t      *mail.Template
		data   any
	}{
		{"mail_balance", balanceTemplate,
			balanceNotice{Contact: "Pat Payables", PONumber: "PO-FUNDS", Balance: "2.655 BHD", Total: "15.000 BHD", Invoice: "12.345 BHD"}},
		{"mail_balance_no_name", balanceTemplate, balanceNotice{PONumber: "PO-JPY", Balance: "3000 JPY", Total: "5000 JPY", Invoice: "2000 JPY"}},
		{"mail_expiry", expiryTemplate, expiryNotice{Contact: "Pat Payables", PONumber: "PO-FUNDS", Expires: "2026-11-30"}},
		{"mail_expiry_no_name", expiryTemplate, expiryNotice{PONumber: "PO-100%", Expires: "2027-02-28"}},
		{"mail_delivery_failed", failedTemplate, deliveryFailedNotice{Contact: "Terry Tech", InvoiceID: "inv_1", PONumber: "PO-INV-1", Total: "24000.00 USD",
			System: "Coupa", Connection: "Coupa invoices", Reason: "417 Expectation Failed: PO Line must be the same type as invoice line"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			subject, body, err := tc.t.Render(tc.data)
			require.NoError(t, err)
			golden.Compare(t, tc.golden, "Subject: "+subject+"\n\n"+body)
		})
	}
}
