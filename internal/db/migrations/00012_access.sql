-- Tenants and access: people (users) and API tokens, each of one
-- organization with a role, or of none with the operator role (the
-- marketplace's own staff); and the audit log of every change made
-- through the admin API or the console.
--
-- A token is stored only as the SHA-256 of its secret (a random 256-bit
-- value, so a fast hash is enough); a password only as its argon2id
-- hash. The audit log is written in the transaction of the change it
-- records and has no route that changes or deletes it.

-- +goose Up
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT REFERENCES organizations (id),
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'billing', 'admin', 'operator')),
    password_hash    TEXT NOT NULL DEFAULT '',
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    last_sign_in_at  TIMESTAMPTZ,
    CHECK ((role = 'operator') = (organization_id IS NULL))
);
CREATE INDEX users_organization ON users (organization_id, email);

CREATE TABLE api_tokens (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT REFERENCES organizations (id),
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('viewer', 'billing', 'admin', 'operator')),
    token_hash       TEXT NOT NULL UNIQUE,
    expires_at       TIMESTAMPTZ,
    last_used_at     TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK ((role = 'operator') = (organization_id IS NULL))
);
CREATE INDEX api_tokens_organization ON api_tokens (organization_id, created_at);

CREATE TABLE audit_events (
    id               TEXT PRIMARY KEY,
    time             TIMESTAMPTZ NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_id         TEXT NOT NULL,
    organization_id  TEXT,
    action           TEXT NOT NULL,
    object_type      TEXT NOT NULL,
    object_id        TEXT NOT NULL,
    source           TEXT NOT NULL,
    changes          TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (time, id);
CREATE INDEX audit_events_organization ON audit_events (organization_id, time, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE api_tokens;
DROP TABLE users;
