-- Orders (OrderRequests and PO entry at checkout), the agreements they
-- create, the charges each agreement will bill, and the mail outbox.

-- +goose Up
CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    connection_id    TEXT REFERENCES connections (id),
    -- The buyer's orderID (its PO number) for cXML orders; an ID of ours
    -- for subscriptions made at checkout or by auto-approval.
    order_id         TEXT NOT NULL,
    po_number        TEXT NOT NULL DEFAULT '',
    type             TEXT NOT NULL CHECK (type IN ('new', 'update', 'delete')),
    source           TEXT NOT NULL CHECK (source IN ('cxml', 'checkout', 'auto_approval')),
    payload_id       TEXT NOT NULL DEFAULT '',
    revises          TEXT REFERENCES orders (id),
    order_date       TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
) /* WITHOUT ROWID */;
-- One original order per orderID and connection: two identical orders
-- posted at once create one set of agreements.
CREATE UNIQUE INDEX orders_new ON orders (connection_id, order_id) WHERE type = 'new';
CREATE INDEX orders_order_id ON orders (connection_id, order_id);

CREATE TABLE agreements (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations (id),
    connection_id         TEXT REFERENCES connections (id),
    order_ref             TEXT NOT NULL REFERENCES orders (id),
    order_id              TEXT NOT NULL,
    line_number           INTEGER NOT NULL,
    offer_id              TEXT NOT NULL REFERENCES offers (id),
    offer_revision        INTEGER NOT NULL,
    product_id            TEXT NOT NULL REFERENCES products (id),
    pricing_model         TEXT NOT NULL,
    currency              TEXT NOT NULL,
    start_date            TEXT NOT NULL,
    end_date              TEXT NOT NULL DEFAULT '',
    total_contract_value  TEXT NOT NULL DEFAULT '',
    po_number             TEXT NOT NULL DEFAULT '',
    usage_po_number       TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    subscriber_email      TEXT NOT NULL DEFAULT '',
    subscriber_name       TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    cancelled_at          TIMESTAMPTZ
) /* WITHOUT ROWID */;
-- Few indexes: each is one more B-tree page every order writes. An
-- order's agreements are unique through orders_new.
CREATE INDEX agreements_org_po ON agreements (organization_id, po_number);

-- A charge is found by its agreement and sequence (the primary key); its
-- id, unique by construction, names it in the API.
CREATE TABLE charges (
    id            TEXT NOT NULL,
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    sequence      INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('upfront', 'installment', 'annual', 'usage')),
    fee           TEXT NOT NULL CHECK (fee IN ('fixed', 'usage')),
    due_date      TEXT NOT NULL DEFAULT '',
    amount        TEXT NOT NULL DEFAULT '',
    currency      TEXT NOT NULL,
    dimension     TEXT NOT NULL DEFAULT '',
    unit          TEXT NOT NULL DEFAULT '',
    unit_price    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'invoiced', 'cancelled')),
    invoice_id    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agreement_id, sequence)
) /* WITHOUT ROWID */;

CREATE TABLE outbox_mail (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT REFERENCES organizations (id),
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    -- Stable per message: a resend after a crash carries the same
    -- Message-ID, so the receiving side can tell it is one message.
    message_id       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    lease_until      TIMESTAMPTZ,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
) /* WITHOUT ROWID */;
CREATE INDEX outbox_mail_due ON outbox_mail (status, next_attempt_at);

-- +goose Down
DROP TABLE outbox_mail;
DROP TABLE charges;
DROP TABLE agreements;
DROP TABLE orders;
