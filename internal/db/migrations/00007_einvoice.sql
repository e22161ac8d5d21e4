-- cXML invoice delivery: the InvoiceDetailRequest of an invoice is fixed
-- when the invoice is made (its payloadID too), so every retry sends the
-- same bytes; the shared secret is not stored in it but put in when sent.

-- +goose Up
ALTER TABLE invoices ADD COLUMN payload_id TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN document BYTEA;
ALTER TABLE invoices ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE invoices ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE invoices ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
-- A credit memo (purpose credit_memo, negative total) names the invoice
-- it credits.
ALTER TABLE invoices ADD COLUMN purpose TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE invoices ADD COLUMN credits_invoice_id TEXT;
CREATE INDEX invoices_delivery ON invoices (delivery_status, next_attempt_at);

-- +goose Down
DROP INDEX invoices_delivery;
ALTER TABLE invoices DROP COLUMN credits_invoice_id;
ALTER TABLE invoices DROP COLUMN purpose;
ALTER TABLE invoices DROP COLUMN last_error;
ALTER TABLE invoices DROP COLUMN lease_until;
ALTER TABLE invoices DROP COLUMN next_attempt_at;
ALTER TABLE invoices DROP COLUMN document;
ALTER TABLE invoices DROP COLUMN payload_id;
