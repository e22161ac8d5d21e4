-- What the buyer's procurement system last said of an invoice, from a
-- cXML StatusUpdateRequest with an InvoiceStatus (SAP Ariba sends them):
-- the status type of the DTD ('' until one arrives), its text (the
-- status's comments, or the Status text) and when it arrived. A status
-- names its invoice by invoice number (the id) or by the payloadID of the
-- InvoiceDetailRequest the gateway sent: the index finds the latter.

-- +goose Up
ALTER TABLE invoices ADD COLUMN buyer_status TEXT NOT NULL DEFAULT ''
    CHECK (buyer_status IN ('', 'processing', 'canceled', 'reconciled', 'rejected', 'paying', 'paid'));
ALTER TABLE invoices ADD COLUMN buyer_status_text TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN buyer_status_at TIMESTAMPTZ;
CREATE INDEX invoices_payload ON invoices (organization_id, payload_id) WHERE payload_id <> '';

-- +goose Down
DROP INDEX invoices_payload;
ALTER TABLE invoices DROP COLUMN buyer_status_at;
ALTER TABLE invoices DROP COLUMN buyer_status_text;
ALTER TABLE invoices DROP COLUMN buyer_status;
