package punchout

import (
	"embed"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/invoicing"
)

//go:embed templates/mail_*.txt
var mailFS embed.FS

// Parsed once, so a broken template fails every test of the package.
var (
	agreementTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_agreement.txt")
	agreementsTemplate = mail.MustParseTemplate(mailFS, "templates/mail_agreements.txt")
)

// agreementMail is what the mail announcing new agreements tells one
// subscriber.
type agreementMail struct {
	Name       string // the subscriber's; empty greets without a name
	Via        string // the procurement system that approved; empty for our own pages
	Agreements []agreementLine
}

// agreementLine is one agreement the mail announces.
type agreementLine struct {
	ID, OfferID, Pricing string
	Product, Vendor      string
	Start, End           string // End is empty for an open-ended agreement
	PONumber             string
	// ContractValue is empty when there is none to tell: free and BYOL
	// offers cost nothing through us, whatever the agreement records.
	ContractValue, Currency string
}

func newAgreementLine(p *catalog.Product, o *catalog.Offer, a *invoicing.Agreement) agreementLine {
	l := agreementLine{
		ID: a.ID, OfferID: o.ID, Pricing: o.PricingModel.Label(), Product: p.Name, Vendor: p.Vendor,
		Start: a.StartDate, End: a.EndDate, PONumber: a.PONumber,
	}
	if o.PricingModel != catalog.Free && o.PricingModel != catalog.BYOL {
		l.ContractValue, l.Currency = a.TotalContractValue.String(), a.Currency
	}
	return l
}

// render returns the mail's subject and body: one agreement gets its
// details, several get one line each.
func (m agreementMail) render() (subject, body string, err error) {
	if len(m.Agreements) == 1 {
		return agreementTemplate.Render(m)
	}
	return agreementsTemplate.Render(m)
}
