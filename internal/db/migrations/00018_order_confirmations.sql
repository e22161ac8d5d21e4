-- Order confirmations: a connection may ask for a cXML ConfirmationRequest
-- after each order (accept) and each order deletion (reject of the
-- cancelled lines), posted to its endpoint through the job queue with the
-- invoices' rules. The document is fixed when the order is taken (the
-- shared secret is put in when sent), so a retry sends the same bytes.

-- +goose Up
ALTER TABLE connections ADD COLUMN confirm_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE connections ADD COLUMN confirm_endpoint TEXT NOT NULL DEFAULT '';
CREATE TABLE confirmations (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations (id),
    connection_id      TEXT NOT NULL REFERENCES connections (id),
    order_ref          TEXT NOT NULL REFERENCES orders (id),
    order_id           TEXT NOT NULL,
    type               TEXT NOT NULL CHECK (type IN ('accept', 'reject')),
    payload_id         TEXT NOT NULL,
    document           BYTEA NOT NULL,
    delivery_status    TEXT NOT NULL CHECK (delivery_status IN ('pending', 'delivered', 'failed')),
    delivery_attempts  INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT NOT NULL DEFAULT '',
    sending_since      TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX confirmations_order ON confirmations (organization_id, order_id);

-- +goose Down
DROP TABLE confirmations;
ALTER TABLE connections DROP COLUMN confirm_endpoint;
ALTER TABLE connections DROP COLUMN confirm_enabled;
