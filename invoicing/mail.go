package invoicing

import (
	"embed"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/mail"
)

//go:embed templates/mail_*.txt
var mailFS embed.FS

// Parsed once, so a broken template fails every test of the package.
var (
	balanceTemplate = mail.MustParseTemplate(mailFS, "templates/mail_balance.txt")
	expiryTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_expiry.txt")
	failedTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_delivery_failed.txt")

	agreementTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_agreement.txt")
	agreementsTemplate = mail.MustParseTemplate(mailFS, "templates/mail_agreements.txt")
)

// deliveryFailedNotice tells a connection's contact that a cXML invoice
// was refused or could not be delivered.
type deliveryFailedNotice struct {
	Contact    string // the contact's name; empty greets without one
	InvoiceID  string
	PONumber   string
	Total      string // with its currency
	System     string // Coupa or SAP Ariba
	Connection string // the connection's name
	Reason     string // the buyer's status text, or why nothing was sent
}

// balanceNotice tells a PO contact that a line item's balance fell below
// 75% of its amount. The amounts carry their currency ("2.655 BHD").
type balanceNotice struct {
	Contact  string // the contact's name; empty greets without one
	PONumber string
	Balance  string // after the invoice
	Total    string // the line item's amount
	Invoice  string // the invoice that drew the balance down
}

// expiryNotice tells a PO contact that the PO expires soon.
type expiryNotice struct {
	Contact  string // the contact's name; empty greets without one
	PONumber string
	Expires  string // the last day, YYYY-MM-DD
}

// AgreementMail is what the mail announcing new agreements tells one
// subscriber, whether an order from a procurement system made them or a
// Subscription.
type AgreementMail struct {
	Name       string // the subscriber's; empty greets without a name
	Via        string // the procurement system that approved; empty for our own pages
	Agreements []AgreementLine
}

// AgreementLine is one agreement the mail announces.
type AgreementLine struct {
	ID, OfferID, Pricing string
	Product, Vendor      string
	Start, End           string // End is empty for an open-ended agreement
	PONumber             string
	// ContractValue is empty when there is none to tell: free and BYOL
	// offers cost nothing through us, whatever the agreement records.
	ContractValue, Currency string
}

// NewAgreementLine is the line announcing a, made of offer o of product p.
func NewAgreementLine(p *catalog.Product, o *catalog.Offer, a *Agreement) AgreementLine {
	l := AgreementLine{
		ID: a.ID, OfferID: o.ID, Pricing: o.PricingModel.Label(), Product: p.Name, Vendor: p.Vendor,
		Start: a.StartDate, End: a.EndDate, PONumber: a.PONumber,
	}
	if o.PricingModel != catalog.Free && o.PricingModel != catalog.BYOL {
		l.ContractValue, l.Currency = a.TotalContractValue.String(), a.Currency
	}
	return l
}

// Render returns the mail's subject and body: one agreement gets its
// details, several get one line each.
func (m AgreementMail) Render() (subject, body string, err error) {
	if len(m.Agreements) == 1 {
		return agreementTemplate.Render(m)
	}
	return agreementsTemplate.Render(m)
}
