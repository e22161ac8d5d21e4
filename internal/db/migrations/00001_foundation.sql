-- Organizations, their connections to procurement systems, and the log of
-- every cXML document exchanged. Written for PostgreSQL; internal/db maps
-- the types for SQLite. IDs are text made by the application, unique by
-- construction; money is decimal text; times are TIMESTAMPTZ in UTC.

-- +goose Up
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    po_mode     TEXT NOT NULL CHECK (po_mode IN ('procurement_system', 'checkout', 'none')),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE connections (
    id                      TEXT PRIMARY KEY,
    organization_id         TEXT NOT NULL REFERENCES organizations (id),
    name                    TEXT NOT NULL,
    system                  TEXT NOT NULL CHECK (system IN ('coupa', 'ariba')),
    buyer_domain            TEXT NOT NULL,
    buyer_identity          TEXT NOT NULL,
    supplier_domain         TEXT NOT NULL,
    supplier_identity       TEXT NOT NULL,
    sender_domain           TEXT NOT NULL,
    sender_identity         TEXT NOT NULL,
    -- lower(domains) and identities of From, To and Sender, joined: the
    -- key a request's header is matched on.
    credential_key          TEXT NOT NULL,
    secret_digest           TEXT NOT NULL,
    form_post_field         TEXT NOT NULL CHECK (form_post_field IN ('cxml-urlencoded', 'cxml-base64')),
    auto_approve_free_byol  BOOLEAN NOT NULL DEFAULT FALSE,
    payg_blanket_amount     TEXT NOT NULL,
    allowed_form_post_hosts TEXT NOT NULL DEFAULT '',
    einvoice_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    einvoice_endpoint       TEXT NOT NULL DEFAULT '',
    einvoice_secret         TEXT NOT NULL DEFAULT '',
    disabled_at             TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX connections_organization ON connections (organization_id);
CREATE UNIQUE INDEX connections_credential_key ON connections (credential_key) WHERE disabled_at IS NULL;

CREATE TABLE exchanges (
    id               TEXT PRIMARY KEY,
    direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    doc_type         TEXT NOT NULL,
    connection_id    TEXT REFERENCES connections (id),
    organization_id  TEXT REFERENCES organizations (id),
    payload_id       TEXT NOT NULL,
    -- For a request: the answer the gateway gave it.
    answer_id        TEXT REFERENCES exchanges (id),
    -- For a repeated request answered from the log: the original request.
    replay_of        TEXT REFERENCES exchanges (id),
    status_code      INTEGER NOT NULL,
    duration_us      BIGINT NOT NULL,
    request_id       TEXT NOT NULL DEFAULT '',
    -- The document as received or sent, byte for byte (it may not be
    -- UTF-8), SharedSecret values removed.
    document         BYTEA NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX exchanges_connection ON exchanges (connection_id, created_at);
-- A payloadID answered with a final status is answered once per sender;
-- a retry after a 5xx is processed again.
CREATE UNIQUE INDEX exchanges_replay ON exchanges (connection_id, payload_id)
    WHERE direction = 'in' AND connection_id IS NOT NULL AND replay_of IS NULL AND status_code < 500;

-- +goose Down
DROP TABLE exchanges;
DROP TABLE connections;
DROP TABLE organizations;
