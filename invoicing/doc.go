// Package invoicing holds what billing needs: buyers' purchase orders
// (line items, statuses, balances, contacts) and their matching to
// invoices, agreements and their charges, and invoices and their delivery.
//
// Agreements live here, not in punchout: an order creates them, billing
// charges them for years after, and the lower package owns the type.
// punchout calls into invoicing; invoicing never calls punchout.
package invoicing
