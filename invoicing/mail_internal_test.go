package invoicing

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/golden"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/money"
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

// TestAgreementMailGolden renders the "your agreement(s) exist" mail for
// representative agreements and compares subject and body with
// testdata/mail_*.golden, which hold the texts byte for byte.
func TestAgreementMailGolden(t *testing.T) {
	cloud := &catalog.Product{ID: "prod-cloud", Name: "CloudSight Observability", Vendor: "Acme Analytics"}
	vault := &catalog.Product{ID: "prod-vault", Name: "Vault Backup", Vendor: "Keep & Sons <backup>"}
	lint := &catalog.Product{ID: "prod-lint", Name: "LintKit", Vendor: "Tidy Co"}
	upfront := &catalog.Offer{ID: "off-upfront", PricingModel: catalog.Upfront, Currency: "USD"}
	free := &catalog.Offer{ID: "off-free", PricingModel: catalog.Free, Currency: "USD"}
	byol := &catalog.Offer{ID: "off-byol", PricingModel: catalog.BYOL, Currency: "EUR"}
	payg := &catalog.Offer{ID: "off-payg", PricingModel: catalog.PAYG, Currency: "JPY"}
	agreement := func(id, end, value, currency, po string) *Agreement {
		return &Agreement{ID: id, StartDate: "2026-12-01", EndDate: end, TotalContractValue: money.MustParse(value, currency), Currency: currency, PONumber: po}
	}
	for _, tc := range []struct {
		golden    string
		name, via string
		items     []mailItem
	}{
		{"mail_agreement_contract", "Dana Buyer", "SAP Ariba", []mailItem{
			{cloud, upfront, agreement("agr_1", "2027-11-30", "12000.00", "USD", "PO-4711")},
		}},
		{"mail_agreement_free", "", "", []mailItem{
			{lint, free, agreement("agr_2", "", "0.00", "USD", "")},
		}},
		{"mail_agreement_byol_po", "Dana Buyer", "", []mailItem{
			{vault, byol, agreement("agr_3", "", "500.00", "EUR", "PO-BYOL")},
		}},
		{"mail_agreement_payg_end", "", "Coupa", []mailItem{
			{cloud, payg, agreement("agr_4", "2027-05-31", "", "JPY", "")},
		}},
		{"mail_agreements_several", "Dana Buyer", "SAP Ariba", []mailItem{
			{cloud, upfront, agreement("agr_5", "2027-11-30", "12000.00", "USD", "PO-4711")},
			{lint, free, agreement("agr_6", "", "", "USD", "")},
			{vault, byol, agreement("agr_7", "", "", "EUR", "PO-4711")},
			{cloud, payg, agreement("agr_8", "2027-05-31", "", "JPY", "")},
		}},
		{"mail_agreements_anonymous", "", "", []mailItem{
			{lint, free, agreement("agr_9", "", "", "USD", "")},
			{vault, byol, agreement("agr_10", "2027-01-31", "", "EUR", "PO-9")},
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			subject, body := renderAgreementMail(t, tc.name, tc.via, tc.items)
			golden.Compare(t, tc.golden, "Subject: "+subject+"\n\n"+body)
		})
	}
}

// mailItem is what order intake and Subscribe start from.
type mailItem struct {
	p *catalog.Product
	o *catalog.Offer
	a *Agreement
}

func renderAgreementMail(t *testing.T, name, via string, items []mailItem) (string, string) {
	t.Helper()
	m := AgreementMail{Name: name, Via: via}
	for _, it := range items {
		m.Agreements = append(m.Agreements, NewAgreementLine(it.p, it.o, it.a))
	}
	subject, body, err := m.Render()
	require.NoError(t, err)
	return subject, body
}
