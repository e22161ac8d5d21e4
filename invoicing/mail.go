package invoicing

import (
	"embed"

	"github.com/cxmlgate/punchout/internal/mail"
)

//go:embed templates/mail_*.txt
var mailFS embed.FS

// Parsed once, so a broken template fails every test of the package.
var (
	balanceTemplate = mail.MustParseTemplate(mailFS, "templates/mail_balance.txt")
	expiryTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_expiry.txt")
	failedTemplate  = mail.MustParseTemplate(mailFS, "templates/mail_delivery_failed.txt")
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
