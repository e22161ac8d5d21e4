-- Agreements keep their product's UNSPSC code, copied from the catalog
-- when they are made, so that invoicing reads the commodity code of its
-- invoice lines from its own table instead of the catalog's products.
-- Existing agreements get it through their offer.

-- +goose Up
ALTER TABLE agreements ADD COLUMN unspsc TEXT NOT NULL DEFAULT '';
UPDATE agreements SET unspsc = COALESCE((SELECT p.unspsc FROM offers o JOIN products p ON p.id = o.product_id
    WHERE o.id = agreements.offer_id), '');

-- +goose Down
ALTER TABLE agreements DROP COLUMN unspsc;
