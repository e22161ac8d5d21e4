-- A cart line is ordered once: the quote of each line that became an
-- agreement, with the order that made it. Another order naming the same
-- quote is refused; an update of the same order may name it again. The
-- primary key settles two orders sent at once.

-- +goose Up
CREATE TABLE ordered_quotes (
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    quote_key        TEXT NOT NULL,
    order_id         TEXT NOT NULL,
    line_number      INTEGER NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, quote_key)
);

-- +goose Down
DROP TABLE ordered_quotes;
