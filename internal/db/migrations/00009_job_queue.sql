-- Invoice delivery and mail run as jobs on River's queue (internal/jobs),
-- whose own tables River's migrator creates. The leased-queue columns go:
-- when the next attempt is due, and the lease, are River's now.
-- sending_since marks an invoice post in flight: set before the post,
-- cleared with its outcome, so one still set when the invoice is tried
-- again says the attempt before was cut off (a crash), and the buyer may
-- have the invoice already.
--
-- Invoices and mail still waiting when this runs get their jobs from
-- jobs_backfill, which the gateway empties at its next start, inserting
-- one job per row in the same transaction as the row's delete.

-- +goose Up
DROP INDEX invoices_delivery;
ALTER TABLE invoices DROP COLUMN next_attempt_at;
ALTER TABLE invoices DROP COLUMN lease_until;
ALTER TABLE invoices ADD COLUMN sending_since TIMESTAMPTZ;
CREATE INDEX invoices_delivery ON invoices (delivery_status);
DROP INDEX outbox_mail_due;
ALTER TABLE outbox_mail DROP COLUMN next_attempt_at;
ALTER TABLE outbox_mail DROP COLUMN lease_until;
UPDATE outbox_mail SET status = 'pending' WHERE status = 'sending';
CREATE INDEX outbox_mail_status ON outbox_mail (status);
CREATE TABLE jobs_backfill (
    kind TEXT NOT NULL,
    ref  TEXT NOT NULL,
    PRIMARY KEY (kind, ref)
);
INSERT INTO jobs_backfill (kind, ref) SELECT 'deliver_invoice', id FROM invoices WHERE delivery_status = 'pending';
INSERT INTO jobs_backfill (kind, ref) SELECT 'send_mail', id FROM outbox_mail WHERE status = 'pending';

-- +goose Down
DROP TABLE jobs_backfill;
DROP INDEX outbox_mail_status;
ALTER TABLE outbox_mail ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE outbox_mail ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP;
CREATE INDEX outbox_mail_due ON outbox_mail (status, next_attempt_at);
DROP INDEX invoices_delivery;
ALTER TABLE invoices DROP COLUMN sending_since;
ALTER TABLE invoices ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE invoices ADD COLUMN next_attempt_at TIMESTAMPTZ;
CREATE INDEX invoices_delivery ON invoices (delivery_status, next_attempt_at);
