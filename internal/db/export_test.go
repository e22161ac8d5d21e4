package db

import "context"

// RedoAfter rolls back the migrations after version and applies them
// again: a test of a migration's backfill puts rows in first.
func RedoAfter(ctx context.Context, d *DB, version int64) error {
	p, err := d.migrations()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
