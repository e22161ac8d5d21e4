-- Usage records, invoices, and the notifications already sent about POs.

-- +goose Up
CREATE TABLE usage_records (
    id            TEXT PRIMARY KEY,
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    dimension     TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL,
    month         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX usage_records_month ON usage_records (month, agreement_id);

CREATE TABLE invoices (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    connection_id     TEXT REFERENCES connections (id),
    kind              TEXT NOT NULL CHECK (kind IN ('out_of_cycle', 'monthly')),
    -- What makes the invoice unique, so a second billing run creates
    -- nothing: "charge:<agreement>:<sequence>" or
    -- "monthly:<organization>:<month>:<currency>:<PO or none>".
    bill_key          TEXT NOT NULL UNIQUE,
    agreement_id      TEXT REFERENCES agreements (id),
    po_number         TEXT NOT NULL DEFAULT '',
    po_line_item_id   TEXT NOT NULL DEFAULT '',
    billing_period    TEXT NOT NULL,
    period_start      TEXT NOT NULL,
    period_end        TEXT NOT NULL,
    invoice_date      TEXT NOT NULL,
    total             TEXT NOT NULL,
    currency          TEXT NOT NULL,
    delivery_status   TEXT NOT NULL CHECK (delivery_status IN ('pending', 'delivered', 'failed', 'not_applicable')),
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX invoices_org ON invoices (organization_id, created_at);
CREATE INDEX invoices_agreement ON invoices (agreement_id);

CREATE TABLE invoice_lines (
    invoice_id    TEXT NOT NULL REFERENCES invoices (id),
    line_number   INTEGER NOT NULL,
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    description   TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    unit_price    TEXT NOT NULL,
    amount        TEXT NOT NULL,
    PRIMARY KEY (invoice_id, line_number)
) /* WITHOUT ROWID */;

CREATE TABLE po_notifications (
    organization_id  TEXT NOT NULL,
    po_number        TEXT NOT NULL,
    -- "balance:<line item>" or "expiry:<expiration month>": sent once.
    kind             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, po_number, kind)
) /* WITHOUT ROWID */;

-- +goose Down
DROP TABLE po_notifications;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE usage_records;
