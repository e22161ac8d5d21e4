// Package punchout holds the conversation with procurement systems:
// connections (who may post cXML to us, with which credentials and shared
// secret), the /cxml endpoint that authenticates and dispatches every
// inbound request, punchout sessions and carts, and order intake.
//
// Organizations live in package organization, products and offers in
// catalog; orders, agreements, charges, purchase orders and invoices in
// invoicing. This package calls into them and none of them imports it:
// where billing needs a connection (to send cXML invoices), it asks
// through invoicing.Parties, which Connections implements and the
// composition root wires in.
//
// Free and BYOL offers a connection auto-approves are subscribed to from
// the pages (AutoApprovals), through invoicing.Agreements.Subscribe;
// purchases with a PO number entered at checkout, where no procurement
// system is involved, are package checkout's. The mail announcing new
// agreements is invoicing's (AgreementMail). templates/ holds the HTML
// pages: the catalog, the cart and the checkout page that returns the
// cart to the procurement system.
package punchout
