// Package punchout holds the conversation with procurement systems:
// connections (who may post cXML to us, with which credentials and shared
// secret), the /cxml endpoint that authenticates and dispatches every
// inbound request, punchout sessions and carts, and order intake.
//
// Organizations live in package organization, products and offers in
// catalog, agreements, charges, purchase orders and invoices in invoicing;
// this package calls into them and none of them calls back.
package punchout
