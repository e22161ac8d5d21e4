package punchout

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
)

// Operations of a punchout session.
const (
	OpCreate  = "create"
	OpEdit    = "edit"
	OpInspect = "inspect"
)

// DefaultSessionTTL is how long a punchout session stays usable.
const DefaultSessionTTL = 4 * time.Hour

// User is who punched out, as the setup request says: Coupa's FirstName,
// LastName, UniqueName, UserEmail, User and BusinessUnit extrinsics,
// Ariba's UniqueName and UserEmail, or the endUser Contact.
type User struct {
	Email        string            `json:"email"`
	UniqueName   string            `json:"unique_name"`
	FirstName    string            `json:"first_name"`
	LastName     string            `json:"last_name"`
	Login        string            `json:"login"`
	BusinessUnit string            `json:"business_unit"`
	ContactName  string            `json:"contact_name,omitempty"`
	Extrinsics   map[string]string `json:"extrinsics,omitempty"`
}

// DisplayName is the best name the user can be greeted with.
func (u User) DisplayName() string {
	switch {
	case u.FirstName != "" || u.LastName != "":
		return joinNonEmpty(" ", u.FirstName, u.LastName)
	case u.ContactName != "":
		return u.ContactName
	case u.UniqueName != "":
		return personName(u.UniqueName)
	}
	return u.Email
}

// personName reads a user name the way SAP Ariba writes it,
// "LAST,FIRST" ("HALVORSEN,INGRID"), as a person's name ("Ingrid
// Halvorsen"), capitalized when it came in capitals only. Any other
// name (an id, an email, one with more commas) stays as it is.
func personName(unique string) string {
	last, first, ok := strings.Cut(unique, ",")
	last, first = strings.TrimSpace(last), strings.TrimSpace(first)
	if !ok || last == "" || first == "" || strings.ContainsAny(unique, "@;") || strings.Contains(first, ",") {
		return unique
	}
	name := first + " " + last
	if strings.ToUpper(name) == name {
		words := strings.Fields(strings.ToLower(name))
		for i, w := range words {
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			for j := 1; j < len(r); j++ {
				if r[j-1] == '-' || r[j-1] == '\'' {
					r[j] = unicode.ToUpper(r[j])
				}
			}
			words[i] = string(r)
		}
		name = strings.Join(words, " ")
	}
	return name
}

func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}

// Session is one punchout: the connection it came from, where its cart
// goes back to, and who is shopping.
type Session struct {
	ID                 string     `db:"id"`
	TokenHash          string     `db:"token_hash"`
	ConnectionID       string     `db:"connection_id"`
	OrganizationID     string     `db:"organization_id"`
	Operation          string     `db:"operation"`
	BuyerCookie        string     `db:"buyer_cookie"`
	BrowserFormPostURL string     `db:"browser_form_post_url"`
	SetupPayloadID     string     `db:"setup_payload_id"`
	UserEmail          string     `db:"user_email"`
	UserUniqueName     string     `db:"user_unique_name"`
	UserFirstName      string     `db:"user_first_name"`
	UserLastName       string     `db:"user_last_name"`
	UserLogin          string     `db:"user_login"`
	BusinessUnit       string     `db:"business_unit"`
	UserDetails        string     `db:"user_details"`
	Status             string     `db:"status"`
	CreatedAt          time.Time  `db:"created_at"`
	ExpiresAt          time.Time  `db:"expires_at"`
	ReturnedAt         *time.Time `db:"returned_at"`
}

// User returns who is shopping.
func (s *Session) User() User {
	var u User
	_ = json.Unmarshal([]byte(s.UserDetails), &u)
	u.Email, u.UniqueName, u.FirstName, u.LastName, u.Login, u.BusinessUnit =
		s.UserEmail, s.UserUniqueName, s.UserFirstName, s.UserLastName, s.UserLogin, s.BusinessUnit
	return u
}

// ReadOnly reports whether the session only shows its cart (inspect).
func (s *Session) ReadOnly() bool { return s.Operation == OpInspect }

// Statuses of a session.
const (
	StatusOpen     = "open"
	StatusReturned = "returned"
)

// Ended reports whether the session is over because its cart went back to
// the procurement system: a create or edit session ends with its return,
// and the buyer changes the cart from the requisition (an edit punchout)
// from then on. An inspect session never ends that way: it changes
// nothing, and showing and returning its cart again is harmless.
func (s *Session) Ended() bool { return s.Status == StatusReturned && !s.ReadOnly() }

const sessionColumns = `id, token_hash, connection_id, organization_id, operation, buyer_cookie, browser_form_post_url,
	setup_payload_id, user_email, user_unique_name, user_first_name, user_last_name, user_login, business_unit,
	user_details, status, created_at, expires_at, returned_at`

// newToken returns a fresh session token for a session ID, and the hash
// stored in its place: the token is "<session ID>.<secret>", the secret
// 256 random bits.
func newToken(sessionID string) (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	return sessionID + "." + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CartItem is one line of a session's cart.
type CartItem struct {
	SessionID     string    `db:"session_id"`
	OfferID       string    `db:"offer_id"`
	OfferRevision int       `db:"offer_revision"`
	Position      int       `db:"position"`
	Quantity      string    `db:"quantity"`
	Source        string    `db:"source"`
	AddedAt       time.Time `db:"added_at"`
}

// Qty is the item's quantity as a decimal.
func (c CartItem) Qty() decimal.Decimal {
	d, err := decimal.NewFromString(c.Quantity)
	if err != nil {
		return decimal.NewFromInt(1)
	}
	return d
}

// Sessions keeps punchout sessions and their carts.
type Sessions struct {
	db  *db.DB
	ttl time.Duration
	now func() time.Time
}

// NewSessions returns the session store; ttl 0 means DefaultSessionTTL,
// and now is the clock sessions expire by.
func NewSessions(d *db.DB, ttl time.Duration, now func() time.Time) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	return &Sessions{db: d, ttl: ttl, now: now}
}

// Create stores a new session inside tx and returns the token of its
// StartPage URL. The token itself is never stored.
func (s *Sessions) Create(ctx context.Context, tx sqlx.ExtContext, sess *Session, user User, now time.Time) (string, error) {
	details, err := json.Marshal(user)
	if err != nil {
		return "", err
	}
	sess.ID = id.New("sess")
	token, hash := newToken(sess.ID)
	sess.TokenHash = hash
	sess.UserEmail, sess.UserUniqueName, sess.UserFirstName, sess.UserLastName = user.Email, user.UniqueName, user.FirstName, user.LastName
	sess.UserLogin, sess.BusinessUnit, sess.UserDetails = user.Login, user.BusinessUnit, string(details)
	sess.Status = StatusOpen
	sess.CreatedAt = now.UTC()
	sess.ExpiresAt = now.Add(s.ttl).UTC()
	// Positional, not named: this runs inside the write transaction of
	// every setup request, and sqlx compiles a named query on each call.
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO punchout_sessions (`+sessionColumns+`) VALUES (
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		sess.ID, sess.TokenHash, sess.ConnectionID, sess.OrganizationID, sess.Operation, sess.BuyerCookie, sess.BrowserFormPostURL,
		sess.SetupPayloadID, sess.UserEmail, sess.UserUniqueName, sess.UserFirstName, sess.UserLastName, sess.UserLogin, sess.BusinessUnit,
		sess.UserDetails, sess.Status, sess.CreatedAt, sess.ExpiresAt, sess.ReturnedAt)
	return token, err
}

// ErrSessionExpired is returned for a token whose session has expired.
var ErrSessionExpired = errs.E(errs.Expired, "this punchout session has expired; return to your procurement system and open the catalog again")

var errNoSession = errs.E(errs.NotFound, "this punchout link is not valid; return to your procurement system and open the catalog again")

// ByToken returns the session a StartPage token opens. An unknown token is
// NotFound, an expired session Expired.
func (s *Sessions) ByToken(ctx context.Context, token string) (*Session, error) {
	sessionID, secret, ok := strings.Cut(token, ".")
	if !ok || secret == "" {
		return nil, errNoSession
	}
	var sess Session
	err := s.db.R.GetContext(ctx, &sess, s.db.Rebind(`SELECT `+sessionColumns+` FROM punchout_sessions WHERE id = ?`), sessionID)
	if db.IsNoRows(err) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(sess.TokenHash)) != 1 {
		return nil, errNoSession
	}
	if !s.now().Before(sess.ExpiresAt) {
		return nil, ErrSessionExpired
	}
	return &sess, nil
}

// Get returns a session by ID inside q, expired or not.
func (s *Sessions) Get(ctx context.Context, q sqlx.ExtContext, sessionID string) (*Session, error) {
	var sess Session
	err := sqlx.GetContext(ctx, q, &sess, q.Rebind(`SELECT `+sessionColumns+` FROM punchout_sessions WHERE id = ?`), sessionID)
	if err != nil {
		return nil, db.Translate(err, "punchout session %s not found", sessionID)
	}
	return &sess, nil
}

// Items returns the session's cart in the order items were added.
func (s *Sessions) Items(ctx context.Context, q sqlx.ExtContext, sessionID string) ([]CartItem, error) {
	if q == nil {
		q = s.db.R
	}
	items := []CartItem{}
	// Sorted here, not by ORDER BY: SQLite compiles a query that orders or
	// aggregates rows picked by a bound parameter again on every call, and
	// a cart has a handful of items.
	err := sqlx.SelectContext(ctx, q, &items, q.Rebind(`SELECT session_id, offer_id, offer_revision, position, quantity, source, added_at
		FROM cart_items WHERE session_id = ?`), sessionID)
	slices.SortFunc(items, func(a, b CartItem) int { return cmp.Compare(a.Position, b.Position) })
	return items, err
}

// PutItem adds an offer to the cart, or updates its revision and source
// when it is there already: a subscription is bought once per cart, with
// quantity 1.
func (s *Sessions) PutItem(ctx context.Context, tx sqlx.ExtContext, item CartItem) error {
	// The next position, computed here for the reason Items sorts here.
	var positions []int
	if err := sqlx.SelectContext(ctx, tx, &positions, tx.Rebind(`SELECT position FROM cart_items WHERE session_id = ?`), item.SessionID); err != nil {
		return err
	}
	pos := 1
	if len(positions) > 0 {
		pos = slices.Max(positions) + 1
	}
	if item.Quantity == "" {
		item.Quantity = "1"
	}
	item.Position = pos
	item.AddedAt = s.now().UTC()
	_, err := sqlx.NamedExecContext(ctx, tx, `INSERT INTO cart_items (session_id, offer_id, offer_revision, position, quantity, source, added_at)
		VALUES (:session_id, :offer_id, :offer_revision, :position, :quantity, :source, :added_at)
		ON CONFLICT (session_id, offer_id) DO UPDATE SET offer_revision = excluded.offer_revision`, item)
	return err
}

// RemoveItem takes an offer out of the cart.
func (s *Sessions) RemoveItem(ctx context.Context, tx sqlx.ExtContext, sessionID, offerID string) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM cart_items WHERE session_id = ? AND offer_id = ?`), sessionID, offerID)
	return err
}

// ErrCartReturned is returned for a change to a session whose cart has
// gone back to the procurement system (see Session.Ended).
var ErrCartReturned = errs.E(errs.Conflict, "the cart of this punchout session has been returned to the procurement system, so the session has ended; "+
	"open the requisition there to edit the cart, or punch out again")

// MarkReturned records inside tx that the session's cart went back to the
// procurement system, which ends a create or edit session. The update is
// conditional, so of two checkouts racing each other one returns the cart
// and the other gets ErrCartReturned; run it before reading the cart, so
// that the row lock it takes on PostgreSQL orders it with the cart's
// changes (see LockOpen). An inspect session is marked each time.
func (s *Sessions) MarkReturned(ctx context.Context, tx sqlx.ExtContext, sess *Session) error {
	q := `UPDATE punchout_sessions SET status = 'returned', returned_at = ? WHERE id = ?`
	if !sess.ReadOnly() {
		q += ` AND status <> 'returned'`
	}
	return openUpdated(tx.ExecContext(ctx, tx.Rebind(q), s.now().UTC(), sess.ID))
}

// LockOpen checks inside tx, before a change to the cart, that the
// session's cart has not been returned, and holds the session's row until
// tx ends (on SQLite every write transaction holds the database), so a
// change and a checkout happen one after the other: a change never lands
// in a cart that has already gone, and a checkout sees every change made
// before it. It returns ErrCartReturned for an ended session.
func (s *Sessions) LockOpen(ctx context.Context, tx sqlx.ExtContext, sessionID string) error {
	return openUpdated(tx.ExecContext(ctx, tx.Rebind(`UPDATE punchout_sessions SET status = status WHERE id = ? AND status <> 'returned'`), sessionID))
}

// openUpdated is ErrCartReturned when a conditional update of an open
// session changed no row.
func openUpdated(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrCartReturned
	}
	return nil
}
