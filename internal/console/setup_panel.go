package console

import (
	"fmt"

	"github.com/cxmlgate/punchout/punchout"
)

// panel is one part of a connection's "Set up in Coupa" or "Set up in
// Ariba" panel: the fields the buyer's admin fills in there, labelled as
// that system labels them, each value with a copy button.
type panel struct {
	Title, Where string
	Fields       []field
	Note         string
}

type field struct {
	Label, Value string
	// ID is the value's element id, for its copy button.
	ID string
	// Missing says why there is no value to show (a write-only secret).
	Missing string
}

// setupPanels are what the buyer's admin types into Coupa or Ariba for
// c. The shared secret is there only when it was just made (secret).
func setupPanels(c *punchout.Connection, cxmlURL, secret string) []panel {
	n := 0
	f := func(label, value string) field {
		n++
		return field{Label: label, Value: value, ID: fmt.Sprintf("setup-%d", n)}
	}
	secretField := func(label string) field {
		x := f(label, secret)
		if secret == "" {
			x.Missing = "Shown only once, when the connection is created or its secret rotated. Lost it? Rotate the shared secret (the button above) to make a new one."
		}
		return x
	}
	if c.System == punchout.Ariba {
		return []panel{{
			Title: "Punchout",
			Where: "In SAP Ariba, the supplier's punchout configuration (a catalog of type punchout, or the cXML setup of this supplier on Ariba Network).",
			Fields: []field{
				f("Punchout URL", cxmlURL),
				f("Buyer Identity (From, network ID)", c.BuyerCredential.Identity),
				f("Buyer Domain", c.BuyerCredential.Domain),
				f("Supplier Identity (To, network ID)", c.SupplierCredential.Identity),
				f("Supplier Domain", c.SupplierCredential.Domain),
				f("Sender Identity", c.SenderCredential.Identity),
				f("Sender Domain", c.SenderCredential.Domain),
				secretField("Shared Secret"),
				f("Protocol", "cXML"),
			},
			Note: "Orders (OrderRequest) go to the same URL with the same credentials. Ariba receives no cXML invoices from this gateway.",
		}}
	}
	ps := []panel{
		{
			Title: "Punchout site",
			Where: "In Coupa: Setup, Punchout Sites, Create (or edit this supplier's site).",
			Fields: []field{
				f("Punchout URL", cxmlURL),
				f("Domain", c.SupplierCredential.Domain),
				f("Identity", c.SupplierCredential.Identity),
				secretField("Secret"),
				f("Sender Domain", c.SenderCredential.Domain),
				f("Sender Identity", c.SenderCredential.Identity),
				f("Protocol", "cxml"),
			},
			Note: fmt.Sprintf("The gateway expects Coupa's documents From %s / %s.", c.BuyerCredential.Domain, c.BuyerCredential.Identity),
		},
		{
			Title: "cXML purchase orders",
			Where: "In Coupa: Suppliers, this supplier, Edit; in PO Transmission choose PO Method cXML.",
			Fields: []field{
				f("PO URL", cxmlURL),
				f("Our Domain", c.BuyerCredential.Domain),
				f("Our Identity", c.BuyerCredential.Identity),
				f("Supplier Domain", c.SupplierCredential.Domain),
				f("Supplier Identity", c.SupplierCredential.Identity),
				secretField("Shared Secret"),
				f("Protocol", "cXML"),
			},
		},
	}
	inv := panel{
		Title: "cXML invoicing",
		Where: "Coupa receives invoices at its own endpoint; its admin gives that URL and the credentials below, which this connection already holds. In Coupa they belong to this supplier's cXML invoicing setup.",
	}
	if c.EInvoice.Enabled {
		sec := field{Label: "Shared Secret", ID: "setup-inv-secret", Missing: "The e-invoicing secret you entered when you turned e-invoicing on; the gateway never shows it."}
		if !c.EInvoice.HasSecret {
			sec.Missing = "None is set: edit the connection to enter it."
		}
		inv.Fields = []field{
			f("Invoice endpoint the gateway posts to", c.EInvoice.Endpoint),
			f("Supplier Domain (From and Sender)", c.SupplierCredential.Domain),
			f("Supplier Identity (From and Sender)", c.SupplierCredential.Identity),
			f("Buyer Domain (To)", c.BuyerCredential.Domain),
			f("Buyer Identity (To)", c.BuyerCredential.Identity),
			sec,
		}
	} else {
		inv.Note = "E-invoicing is off for this connection: invoices are not sent as cXML. Edit the connection to turn it on with Coupa's invoice endpoint (https://your-instance.coupahost.com/cxml/invoices) and its shared secret."
	}
	return append(ps, inv)
}
