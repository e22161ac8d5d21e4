package invoicing

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
)

// UsageRecord is metered usage of a pay-as-you-go agreement.
type UsageRecord struct {
	ID          string    `json:"id"`
	AgreementID string    `json:"agreement_id"`
	Dimension   string    `json:"dimension"`
	Quantity    string    `json:"quantity"`
	Time        time.Time `json:"time"`
}

// UsageResult counts what RecordUsage did.
type UsageResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// RecordUsage stores usage records, idempotently per record ID: a record
// sent again is a duplicate and changes nothing; the same ID with other
// content is a Conflict. All records are checked before any is stored.
func RecordUsage(ctx context.Context, d *db.DB, records []UsageRecord, now time.Time) (*UsageResult, error) {
	if len(records) == 0 {
		return nil, errs.E(errs.Invalid, "records is empty")
	}
	if len(records) > 10000 {
		return nil, errs.E(errs.Invalid, "send at most 10000 records per request")
	}
	res := &UsageResult{}
	err := d.Transact(ctx, func(tx *sqlx.Tx) error {
		dims := map[string]map[string]bool{}
		for i := range records {
			r := &records[i]
			r.ID, r.Dimension = strings.TrimSpace(r.ID), strings.TrimSpace(r.Dimension)
			if r.ID == "" || len(r.ID) > 200 {
				return errs.E(errs.Invalid, "records[%d].id must be 1 to 200 characters", i)
			}
			q, err := decimal.NewFromString(strings.TrimSpace(r.Quantity))
			if err != nil || q.IsNegative() {
				return errs.E(errs.Invalid, "records[%d].quantity must be a non-negative decimal string", i)
			}
			r.Quantity = q.String()
			if r.Time.IsZero() {
				return errs.E(errs.Invalid, "records[%d].time is required (RFC 3339)", i)
			}
			known, ok := dims[r.AgreementID]
			if !ok {
				var names []string
				if err := tx.SelectContext(ctx, &names, tx.Rebind(`SELECT c.dimension FROM charges c JOIN agreements a ON a.id = c.agreement_id
					WHERE c.agreement_id = ? AND c.fee = 'usage'`), r.AgreementID); err != nil {
					return err
				}
				known = map[string]bool{}
				for _, n := range names {
					known[n] = true
				}
				dims[r.AgreementID] = known
			}
			if len(known) == 0 {
				return errs.E(errs.Invalid, "records[%d]: agreement %q is not a pay-as-you-go agreement of this gateway", i, r.AgreementID)
			}
			if !known[r.Dimension] {
				return errs.E(errs.Invalid, "records[%d]: agreement %s has no usage dimension %q", i, r.AgreementID, r.Dimension)
			}
			t := r.Time.UTC()
			ins, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO usage_records (id, agreement_id, dimension, quantity, recorded_at, month, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), r.ID, r.AgreementID, r.Dimension, r.Quantity, t, t.Format("2006-01"), now.UTC())
			if err != nil {
				return err
			}
			if n, _ := ins.RowsAffected(); n == 1 {
				res.Accepted++
				continue
			}
			var old struct {
				AgreementID string    `db:"agreement_id"`
				Dimension   string    `db:"dimension"`
				Quantity    string    `db:"quantity"`
				RecordedAt  time.Time `db:"recorded_at"`
			}
			if err := tx.GetContext(ctx, &old, tx.Rebind(`SELECT agreement_id, dimension, quantity, recorded_at FROM usage_records WHERE id = ?`), r.ID); err != nil {
				return err
			}
			oq, _ := decimal.NewFromString(old.Quantity)
			if old.AgreementID != r.AgreementID || old.Dimension != r.Dimension || !oq.Equal(q) || !old.RecordedAt.Equal(t) {
				return errs.E(errs.Conflict, "usage record %s was recorded before with other content; usage records cannot change, send a new record", r.ID)
			}
			res.Duplicates++
		}
		// One event per agreement the records were for.
		for agreementID := range dims {
			var org string
			if err := tx.GetContext(ctx, &org, tx.Rebind(`SELECT organization_id FROM agreements WHERE id = ?`), agreementID); err != nil {
				return err
			}
			if err := access.Record(ctx, tx, org, "usage.record", "agreement", agreementID,
				map[string]access.Change{"usage_records": {After: res.Accepted}}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
