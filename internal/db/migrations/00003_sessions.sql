-- Punchout sessions and their carts. A session is reached only through
-- the unguessable token in its StartPage URL (no cookie), so one browser
-- can run two punchouts at once. The token is the session ID and a random
-- secret; only the secret's SHA-256 is stored, and the session is found
-- by its (time-ordered) ID, so no insert touches a random index page.

-- +goose Up
CREATE TABLE punchout_sessions (
    id                     TEXT PRIMARY KEY,
    token_hash             TEXT NOT NULL,
    connection_id          TEXT NOT NULL REFERENCES connections (id),
    organization_id        TEXT NOT NULL REFERENCES organizations (id),
    operation              TEXT NOT NULL CHECK (operation IN ('create', 'edit', 'inspect')),
    buyer_cookie           TEXT NOT NULL,
    browser_form_post_url  TEXT NOT NULL,
    setup_payload_id       TEXT NOT NULL,
    user_email             TEXT NOT NULL DEFAULT '',
    user_unique_name       TEXT NOT NULL DEFAULT '',
    user_first_name        TEXT NOT NULL DEFAULT '',
    user_last_name         TEXT NOT NULL DEFAULT '',
    user_login             TEXT NOT NULL DEFAULT '',
    business_unit          TEXT NOT NULL DEFAULT '',
    -- Every extrinsic and the endUser contact of the setup request, JSON.
    user_details           TEXT NOT NULL DEFAULT '{}',
    status                 TEXT NOT NULL CHECK (status IN ('open', 'returned')),
    created_at             TIMESTAMPTZ NOT NULL,
    expires_at             TIMESTAMPTZ NOT NULL,
    returned_at            TIMESTAMPTZ
) /* WITHOUT ROWID */;
-- No index on connection_id yet: nothing lists sessions by connection, and
-- every index is one more B-tree each setup request writes.

CREATE TABLE cart_items (
    session_id      TEXT NOT NULL REFERENCES punchout_sessions (id) ON DELETE CASCADE,
    offer_id        TEXT NOT NULL REFERENCES offers (id),
    offer_revision  INTEGER NOT NULL,
    position        INTEGER NOT NULL,
    quantity        TEXT NOT NULL,
    -- For a cart restored by an edit setup request: the buyer's ItemOut as
    -- received, so what we do not model goes back out.
    source          TEXT NOT NULL DEFAULT '',
    added_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, offer_id)
) /* WITHOUT ROWID */;

-- +goose Down
DROP TABLE cart_items;
DROP TABLE punchout_sessions;
