-- Console sessions: a person signed in to /admin. The browser holds the
-- session's random token in a cookie; the table holds only the token's
-- SHA-256 (scs's HashTokenInStore), so a copy of the database signs no
-- one in. data is scs's encoding of the session's values. A session ends
-- at ends_at: its idle timeout from the last request, never later than
-- expires_at, its absolute lifetime from sign-in. Expired rows are
-- deleted by a periodic job (purge_console_sessions).
--
-- users.oidc_subject links a user to its single sign-on identity
-- (issuer and subject) at its first sign-in through OpenID Connect: from
-- then on only that identity signs in as this user, even if the
-- provider gives its email to someone else.

-- +goose Up
CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,
    data        BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
) /* WITHOUT ROWID */;
CREATE INDEX console_sessions_ends ON console_sessions (ends_at);

ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject);

-- +goose Down
DROP INDEX users_oidc_subject;
ALTER TABLE users DROP COLUMN oidc_subject;
DROP TABLE console_sessions;
