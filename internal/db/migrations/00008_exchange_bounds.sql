-- The exchange log under hostile traffic. Documents are now stored decoded
-- to UTF-8 and redacted (not byte for byte, as 00001 says); a refused
-- document is kept only as a short prefix, with the size and SHA-256 of
-- what was sent; listing
-- reads no documents and pages by (created_at, id); retention deletes by
-- age, and the indexes on answer_id and replay_of keep its foreign-key
-- checks from scanning the table (partial: most rows have neither, and
-- every request writes two rows).

-- +goose Up
ALTER TABLE exchanges ADD COLUMN document_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE exchanges ADD COLUMN document_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE exchanges ADD COLUMN document_truncated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX exchanges_created ON exchanges (created_at, id);
CREATE INDEX exchanges_organization ON exchanges (organization_id, created_at, id);
CREATE INDEX exchanges_payload ON exchanges (payload_id);
CREATE INDEX exchanges_answer ON exchanges (answer_id) WHERE answer_id IS NOT NULL;
CREATE INDEX exchanges_replay_of ON exchanges (replay_of) WHERE replay_of IS NOT NULL;

-- +goose Down
DROP INDEX exchanges_replay_of;
DROP INDEX exchanges_answer;
DROP INDEX exchanges_payload;
DROP INDEX exchanges_organization;
DROP INDEX exchanges_created;
ALTER TABLE exchanges DROP COLUMN document_truncated;
ALTER TABLE exchanges DROP COLUMN document_sha256;
ALTER TABLE exchanges DROP COLUMN document_size;
