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
// The notices to purchase order contacts (balance below 75%, expiry) are
// worded in templates/mail_*.txt, as package mail describes.
package invoicing
