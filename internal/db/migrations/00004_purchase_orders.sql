-- Buyers' purchase orders, their line items and contacts. A PO is
-- identified by its number within its organization.

-- +goose Up
CREATE TABLE purchase_orders (
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    po_number         TEXT NOT NULL,
    bill_from         TEXT NOT NULL DEFAULT '',
    effective_month   TEXT NOT NULL,
    expiration_month  TEXT NOT NULL,
    -- What an admin set: active or suspended. Expiry follows from the
    -- expiration month and is computed, not stored.
    admin_status      TEXT NOT NULL CHECK (admin_status IN ('active', 'suspended')),
    created_by        TEXT NOT NULL CHECK (created_by IN ('admin', 'order')),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, po_number)
) /* WITHOUT ROWID */;

CREATE TABLE po_contacts (
    organization_id  TEXT NOT NULL,
    po_number        TEXT NOT NULL,
    position         INTEGER NOT NULL,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    PRIMARY KEY (organization_id, po_number, position),
    FOREIGN KEY (organization_id, po_number) REFERENCES purchase_orders (organization_id, po_number) ON DELETE CASCADE
) /* WITHOUT ROWID */;

CREATE TABLE po_line_items (
    id               TEXT NOT NULL,
    organization_id  TEXT NOT NULL,
    po_number        TEXT NOT NULL,
    type             TEXT NOT NULL CHECK (type IN ('all', 'monthly_usage', 'subscription', 'marketplace_transaction', 'marketplace_blanket_usage')),
    start_month      TEXT NOT NULL,
    end_month        TEXT NOT NULL,
    -- The line item's value and, with balance tracking, what is left of
    -- it; decimal text, balance '' when not tracked (marketplace line items
    -- never are).
    amount           TEXT NOT NULL DEFAULT '',
    balance          TEXT NOT NULL DEFAULT '',
    currency         TEXT NOT NULL DEFAULT '',
    -- For line items an agreement added: the agreement and why.
    agreement_id     TEXT,
    note             TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, po_number, id),
    FOREIGN KEY (organization_id, po_number) REFERENCES purchase_orders (organization_id, po_number) ON DELETE CASCADE
) /* WITHOUT ROWID */;

-- +goose Down
DROP TABLE po_line_items;
DROP TABLE po_contacts;
DROP TABLE purchase_orders;
