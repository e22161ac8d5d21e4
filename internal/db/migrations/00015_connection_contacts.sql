-- A connection's contacts: the buyer's people told when something of the
-- connection fails (a cXML invoice the buyer refused, say), as JSON:
-- [{"name", "email", "kind": "technical"|"billing"}].

-- +goose Up
ALTER TABLE connections ADD COLUMN contacts TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE connections DROP COLUMN contacts;
