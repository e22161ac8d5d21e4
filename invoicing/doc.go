// Package invoicing holds what billing needs: buyers' purchase orders
// (line items, statuses, balances, contacts) and their matching to
// invoices, the orders agreements come from, agreements and their charges,
// usage, and invoices and their delivery.
//
// Orders and agreements live here, not in punchout: an order creates
// agreements, billing charges them for years after, and the lower package
// owns the types and their tables. punchout calls into invoicing;
// invoicing never imports punchout, and reads a connection's invoicing
// details through the Parties interface.
//
// Agreements made without an OrderRequest (a free or BYOL offer
// auto-approved on the punchout pages, a purchase with a PO number entered
// at checkout) are made by Agreements.Subscribe, for packages punchout and
// checkout.
//
// The mail announcing new agreements to their subscriber (AgreementMail),
// the notices to purchase order contacts (balance below 75%, expiry) and
// the one to a connection's contacts (an invoice not delivered) are
// worded in templates/mail_*.txt, as package mail describes.
package invoicing
