package access

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/id"
)

// Event is one entry of the audit log.
type Event struct {
	ID             string            `db:"id" json:"id"`
	Time           time.Time         `db:"time" json:"time"`
	Actor          Actor             `db:"-" json:"actor"`
	ActorKind      string            `db:"actor_kind" json:"-"`
	ActorID        string            `db:"actor_id" json:"-"`
	OrganizationID *string           `db:"organization_id" json:"organization_id"`
	Action         string            `db:"action" json:"action"`
	ObjectType     string            `db:"object_type" json:"object_type"`
	ObjectID       string            `db:"object_id" json:"object_id"`
	Source         string            `db:"source" json:"source"`
	ChangesJSON    string            `db:"changes" json:"-"`
	Changes        map[string]Change `db:"-" json:"changes"`
}

// Actor is who made a change.
type Actor struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Change is one field's value before and after a change (nil where it
// had none). A secret's values are never shown, only that it changed.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// masked stands for a secret's value in the audit log.
const masked = "(secret, changed)"

// SecretChanged is the change of a secret: its values are never shown.
var SecretChanged = Change{After: masked}

// Diff returns the fields that differ between before and after (nil for
// a creation or a deletion), both encoded as JSON objects. A field whose
// name says it holds a secret (secret, password, token) shows only that
// it changed, at any depth.
func Diff(before, after any) map[string]Change {
	b, a := fields(before), fields(after)
	out := map[string]Change{}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	for k := range keys {
		if reflect.DeepEqual(b[k], a[k]) {
			continue
		}
		if secretField(k) {
			out[k] = SecretChanged
			continue
		}
		out[k] = Change{Before: mask(b[k]), After: mask(a[k])}
	}
	return out
}

func secretField(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "secret") || strings.Contains(n, "password") || strings.Contains(n, "token")
}

// fields is v's JSON object.
func fields(v any) map[string]any {
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// mask replaces the secrets inside a nested object.
func mask(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if s, isString := x.(string); isString && secretField(k) && s != "" {
			out[k] = "(secret)"
			continue
		}
		out[k] = mask(x)
	}
	return out
}

// Record writes an event in tx, the transaction of the change it
// records, with the principal of ctx as its actor. A change made with
// no principal (by the gateway itself: a cXML order, a billing run from
// the command line) is recorded with the actor kind "system".
func Record(ctx context.Context, tx *sqlx.Tx, org, action, objectType, objectID string, changes map[string]Change, now time.Time) error {
	p, ok := FromContext(ctx)
	if !ok {
		p = System
	}
	if changes == nil {
		changes = map[string]Change{}
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	var orgID *string
	if org != "" {
		orgID = &org
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO audit_events (id, time, actor_kind, actor_id, organization_id, action, object_type, object_id, source, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), id.New("aud"), now.UTC(), string(p.Kind), p.ID, orgID, action, objectType, objectID, p.Source, string(raw))
	return err
}

// AuditQuery selects events.
type AuditQuery struct {
	OrganizationID string
	Since          time.Time
	Limit          int
}

// ListAudit returns events oldest first from Since, of one organization
// when OrganizationID is set.
func ListAudit(ctx context.Context, q sqlx.QueryerContext, rebind func(string) string, aq AuditQuery) ([]Event, error) {
	query := `SELECT id, time, actor_kind, actor_id, organization_id, action, object_type, object_id, source, changes FROM audit_events WHERE time >= ?`
	args := []any{aq.Since.UTC()}
	if aq.OrganizationID != "" {
		query += ` AND organization_id = ?`
		args = append(args, aq.OrganizationID)
	}
	if aq.Limit <= 0 || aq.Limit > 1000 {
		aq.Limit = 100
	}
	query += ` ORDER BY time, id LIMIT ?`
	args = append(args, aq.Limit)
	var out []Event
	if err := sqlx.SelectContext(ctx, q, &out, rebind(query), args...); err != nil {
		return nil, err
	}
	for i := range out {
		e := &out[i]
		e.Time = e.Time.UTC()
		e.Actor = Actor{Kind: e.ActorKind, ID: e.ActorID}
		e.Changes = map[string]Change{}
		_ = json.Unmarshal([]byte(e.ChangesJSON), &e.Changes)
	}
	if out == nil {
		out = []Event{}
	}
	return out, nil
}
