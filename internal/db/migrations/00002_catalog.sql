-- Products, their offers, and each organization's private marketplace.

-- +goose Up
CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    vendor       TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('saas', 'ami', 'container', 'professional_services', 'data')),
    unspsc       TEXT NOT NULL,
    description  TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE offers (
    id                          TEXT PRIMARY KEY,
    product_id                  TEXT NOT NULL REFERENCES products (id),
    pricing_model               TEXT NOT NULL CHECK (pricing_model IN ('upfront', 'fps', 'payg', 'annual', 'free', 'byol')),
    currency                    TEXT NOT NULL,
    -- Contract price of upfront and annual offers, decimal text; '' otherwise.
    price                       TEXT NOT NULL DEFAULT '',
    duration_months             INTEGER NOT NULL DEFAULT 0,
    -- FPS payment schedule and PAYG dimensions, JSON.
    schedule                    TEXT NOT NULL DEFAULT '[]',
    dimensions                  TEXT NOT NULL DEFAULT '[]',
    private_to_organization_id  TEXT REFERENCES organizations (id),
    expires_at                  TIMESTAMPTZ,
    revision                    INTEGER NOT NULL DEFAULT 1,
    updated_at                  TIMESTAMPTZ NOT NULL
);
CREATE INDEX offers_product ON offers (product_id);
CREATE INDEX offers_private ON offers (private_to_organization_id);

CREATE TABLE private_marketplaces (
    organization_id  TEXT PRIMARY KEY REFERENCES organizations (id),
    enabled          BOOLEAN NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE private_marketplace_products (
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    product_id       TEXT NOT NULL REFERENCES products (id),
    PRIMARY KEY (organization_id, product_id)
);

-- +goose Down
DROP TABLE private_marketplace_products;
DROP TABLE private_marketplaces;
DROP TABLE offers;
DROP TABLE products;
