package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Tx is a write transaction that holds back the inserts nobody needs an
// answer from and sends them together: on PostgreSQL as one statement,
// each a data-modifying WITH query of it, so an order's dozen inserts cost
// one round trip instead of a dozen; on SQLite one after another, as they
// would have run.
//
// Held inserts run before any other statement of the transaction and
// before it commits, in the order they were held, so every statement
// sees what the ones before it wrote, as without holding. Only plain
// INSERTs are held: on PostgreSQL the sub-statements of one statement do
// not see each other's changes, so an UPDATE or DELETE held after an
// insert would miss the inserted row; new rows cannot depend on each
// other that way. Constraints are checked as usual: a unique violation
// between two held rows fails the statement, and foreign keys are checked
// at its end, so a row may refer to one held before it.
//
// The transaction begins at its first statement, not when TransactHeld
// is called: what the caller computes before that (a handler building its
// answer) does not hold the write connection, which on SQLite is the only
// one. On PostgreSQL a transaction whose only statements are held inserts
// that make one statement sends just that statement, atomic by itself,
// without BEGIN and COMMIT.
type Tx struct {
	d    *DB
	tx   *sqlx.Tx // nil until the first statement
	held []heldStmt
	// err is the first failed begin's or flush's: the transaction is lost
	// then, and TransactHeld returns it rather than what it caused later.
	err error
}

type heldStmt struct {
	query string
	args  []any
}

var _ sqlx.ExtContext = (*Tx)(nil)

// TransactHeld is Transact with a Tx that holds inserts: fn runs, the
// held inserts run, and the transaction, if any statement began one,
// commits. An error of a held statement, such as a unique violation, is
// returned as fn's would be, and rolls everything back.
func (d *DB) TransactHeld(ctx context.Context, fn func(tx *Tx) error) error {
	t := &Tx{d: d}
	defer func() {
		if t.tx != nil {
			_ = t.tx.Rollback() // After Commit, a no-op.
		}
	}()
	if err := fn(t); err != nil {
		if t.err != nil {
			return t.err
		}
		return err
	}
	if t.tx == nil && t.err == nil && d.Engine == Postgres && len(t.held) > 0 && params(t.held) <= maxParams {
		held := t.held
		t.held = nil
		return t.run(ctx, d.W, held)
	}
	if err := t.flush(ctx); err != nil {
		return err
	}
	if t.tx == nil {
		return nil // nothing to write
	}
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// begin starts the transaction, once.
func (t *Tx) begin(ctx context.Context) error {
	if t.err != nil || t.tx != nil {
		return t.err
	}
	tx, err := t.d.W.BeginTxx(ctx, nil)
	if err != nil {
		t.err = fmt.Errorf("begin: %w", err)
		return t.err
	}
	t.tx = tx
	return nil
}

// ready prepares the transaction for a statement: begun, and the held
// inserts run.
func (t *Tx) ready(ctx context.Context) error {
	if err := t.begin(ctx); err != nil {
		return err
	}
	return t.flush(ctx)
}

// ExecLater runs a write statement whose result the caller does not read.
// On a Tx an INSERT is held until the transaction's next other statement
// or its commit, and any other statement runs now, after the held ones;
// on anything else it runs now. query uses ? placeholders.
func ExecLater(ctx context.Context, q sqlx.ExtContext, query string, args ...any) error {
	if tx, ok := q.(*Tx); ok && holdable(query) {
		return tx.Hold(query, args...)
	}
	_, err := q.ExecContext(ctx, q.Rebind(query), args...)
	return err
}

// holdable reports whether a statement is a plain INSERT. The gateway
// writes its SQL keywords in capitals.
func holdable(query string) bool {
	verb, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	return strings.EqualFold(verb, "INSERT") && !strings.Contains(query, "RETURNING") && !strings.Contains(query, "ON CONFLICT")
}

// Hold holds an INSERT (no RETURNING, no ON CONFLICT, ? placeholders)
// until the next flush.
func (t *Tx) Hold(query string, args ...any) error {
	if !holdable(query) {
		return fmt.Errorf("db: only plain INSERT statements can be held: %q", truncateSQL(query))
	}
	t.held = append(t.held, heldStmt{query: query, args: args})
	return nil
}

// flush runs the held inserts now, beginning the transaction if they are
// its first statements.
func (t *Tx) flush(ctx context.Context) error {
	if t.err != nil || len(t.held) == 0 {
		return t.err
	}
	if err := t.begin(ctx); err != nil {
		return err
	}
	held := t.held
	t.held = nil
	t.err = t.run(ctx, t.tx, held)
	return t.err
}

// maxParams is the most bind parameters one PostgreSQL statement takes.
const maxParams = 65535

func params(held []heldStmt) int {
	n := 0
	for _, s := range held {
		n += len(s.args)
	}
	return n
}

// run sends held statements through ex: the transaction, or on
// PostgreSQL the pool when they make one statement.
func (t *Tx) run(ctx context.Context, ex sqlx.ExecerContext, held []heldStmt) error {
	if t.d.Engine != Postgres {
		for _, s := range held {
			if _, err := ex.ExecContext(ctx, t.Rebind(s.query), s.args...); err != nil {
				return err
			}
		}
		return nil
	}
	// As few statements as the parameter limit allows: a very large order
	// takes more than one.
	for len(held) > 0 {
		n, count := 1, len(held[0].args)
		for n < len(held) && count+len(held[n].args) <= maxParams {
			count += len(held[n].args)
			n++
		}
		q, args := combineHeld(held[:n])
		if _, err := ex.ExecContext(ctx, t.Rebind(q), args...); err != nil {
			return err
		}
		held = held[n:]
	}
	return nil
}

// combineHeld writes held statements as one: every statement but the
// last is a WITH query of the last. Placeholders stay in order, so the
// arguments are the statements' own, one after another.
func combineHeld(held []heldStmt) (string, []any) {
	if len(held) == 1 {
		return held[0].query, held[0].args
	}
	var b strings.Builder
	n := 0
	for _, s := range held {
		n += len(s.args)
	}
	args := make([]any, 0, n)
	b.WriteString("WITH ")
	for i, s := range held[:len(held)-1] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "held_%d AS (%s)", i+1, s.query)
		args = append(args, s.args...)
	}
	last := held[len(held)-1]
	b.WriteString(" ")
	b.WriteString(last.query)
	return b.String(), append(args, last.args...)
}

func truncateSQL(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 80 {
		return q[:80] + "…"
	}
	return q
}

// The methods of sqlx.ExtContext, and the two helpers the stores use:
// each runs the held statements first.

// DriverName is the driver's name.
func (t *Tx) DriverName() string { return t.d.W.DriverName() }

// Rebind turns ? placeholders into the engine's own.
func (t *Tx) Rebind(q string) string { return t.d.W.Rebind(q) }

// BindNamed binds named parameters.
func (t *Tx) BindNamed(q string, arg any) (string, []any, error) { return t.d.W.BindNamed(q, arg) }

// ExecContext runs a statement now, after the held ones.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query, after the held statements.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryxContext runs a query, after the held statements.
func (t *Tx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	return t.tx.QueryxContext(ctx, query, args...)
}

// QueryRowxContext runs a query for one row, after the held statements; a
// failed begin or flush is the row's error.
func (t *Tx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if err := t.ready(ctx); err != nil {
		// A sqlx.Row gets its error only from a query: this one fails
		// without running, and TransactHeld returns the flush's error.
		done, cancel := context.WithCancel(ctx)
		cancel()
		return t.d.W.QueryRowxContext(done, query, args...)
	}
	return t.tx.QueryRowxContext(ctx, query, args...)
}

// GetContext reads one row into dest, after the held statements.
func (t *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.ready(ctx); err != nil {
		return err
	}
	return t.tx.GetContext(ctx, dest, query, args...)
}

// SelectContext reads rows into dest, after the held statements.
func (t *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.ready(ctx); err != nil {
		return err
	}
	return t.tx.SelectContext(ctx, dest, query, args...)
}

// maxRowParams bounds the parameters of one multi-row insert: SQLite
// takes at most 32,766 in a statement (PostgreSQL 65,535).
const maxRowParams = 32766

// ExecLaterRows inserts rows with ExecLater as few multi-row inserts as
// the engines' parameter limits allow: prefix is the statement up to
// VALUES, row the parenthesized values of one row with a ? for each
// parameter, and args the rows' parameters one row after another.
func ExecLaterRows(ctx context.Context, q sqlx.ExtContext, prefix, row string, args []any) error {
	perRow := strings.Count(row, "?")
	if perRow == 0 || len(args)%perRow != 0 {
		return fmt.Errorf("db: %d values do not make rows of %d", len(args), perRow)
	}
	chunk := max(1, maxRowParams/perRow) * perRow
	for len(args) > 0 {
		n := min(chunk, len(args))
		var b strings.Builder
		b.WriteString(prefix)
		for i := 0; i < n/perRow; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		if err := ExecLater(ctx, q, b.String(), args[:n]...); err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}
