-- The exchange log keeps the buyer's answers to what the gateway sends
-- (an invoice): records of direction 'in' with no answer of their own.
-- The one-answer-per-payloadID rule is for the buyer's requests, which
-- always have their answer: the index says so, as Lookup's query does.

-- +goose Up
DROP INDEX exchanges_replay;
CREATE UNIQUE INDEX exchanges_replay ON exchanges (connection_id, payload_id)
    WHERE direction = 'in' AND connection_id IS NOT NULL AND replay_of IS NULL AND status_code < 500 AND answer_id IS NOT NULL;

-- +goose Down
DROP INDEX exchanges_replay;
CREATE UNIQUE INDEX exchanges_replay ON exchanges (connection_id, payload_id)
    WHERE direction = 'in' AND connection_id IS NOT NULL AND replay_of IS NULL AND status_code < 500;
