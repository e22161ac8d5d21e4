package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
)

// Token is an API token, as listed: never its secret.
type Token struct {
	ID             string     `db:"id" json:"id"`
	OrganizationID *string    `db:"organization_id" json:"organization_id,omitempty"`
	Name           string     `db:"name" json:"name"`
	Role           Role       `db:"role" json:"role"`
	ExpiresAt      *time.Time `db:"expires_at" json:"expires_at,omitempty"`
	LastUsedAt     *time.Time `db:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt      *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
}

const tokenColumns = `id, organization_id, name, role, expires_at, last_used_at, revoked_at, created_at`

// tokenPrefix starts every API token, so a leaked one is recognisable
// (and a secret scanner can be taught it).
const tokenPrefix = "pgt_"

// NewToken is what a caller gives to create a token.
type NewToken struct {
	Name           string     `json:"name"`
	OrganizationID string     `json:"organization_id"`
	Role           string     `json:"role"`
	ExpiresAt      *time.Time `json:"expires_at"`
}

// Tokens keeps API tokens.
type Tokens struct {
	DB  *db.DB
	Now func() time.Time
}

// hashToken is how a token's secret is stored: 256 random bits need no
// slow hash.
func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Create makes a token for p (who may grant its role in its
// organization) and returns it with its secret, which is shown this
// once.
func (s *Tokens) Create(ctx context.Context, p Principal, nt NewToken) (*Token, string, error) {
	nt.Name = strings.TrimSpace(nt.Name)
	if nt.Name == "" || len(nt.Name) > 200 {
		return nil, "", errs.E(errs.Invalid, "name is required, at most 200 characters")
	}
	role, err := ParseRole(nt.Role)
	if err != nil {
		return nil, "", err
	}
	if p.Scoped() && nt.OrganizationID == "" {
		nt.OrganizationID = p.OrganizationID
	}
	if err := p.CheckGrant(nt.OrganizationID, role); err != nil {
		return nil, "", err
	}
	now := s.Now().UTC()
	if nt.ExpiresAt != nil && !nt.ExpiresAt.After(now) {
		return nil, "", errs.E(errs.Invalid, "expires_at must be in the future")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := &Token{ID: id.New("tok"), Name: nt.Name, Role: role, ExpiresAt: utcPtr(nt.ExpiresAt), CreatedAt: now}
	if nt.OrganizationID != "" {
		org := nt.OrganizationID
		t.OrganizationID = &org
	}
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := organizationExists(ctx, tx, nt.OrganizationID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO api_tokens (id, organization_id, name, role, token_hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), t.ID, t.OrganizationID, t.Name, t.Role, hashToken(secret), t.ExpiresAt, t.CreatedAt); err != nil {
			return err
		}
		return Record(ctx, tx, nt.OrganizationID, "token.create", "token", t.ID, Diff(nil, t), now)
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// organizationExists refuses an unknown organization (NotFound). It
// counts rows itself: package organization records its changes through
// this package (Record), so this one cannot ask organization.Get.
func organizationExists(ctx context.Context, tx *sqlx.Tx, org string) error {
	if org == "" {
		return nil
	}
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM organizations WHERE id = ?`), org); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.NotFound, "organization %s not found", org)
	}
	return nil
}

// List returns the tokens p sees (of its organization, or of org for an
// operator; all when org is empty), newest first.
func (s *Tokens) List(ctx context.Context, org string) ([]Token, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens`
	var args []any
	if org != "" {
		q += ` WHERE organization_id = ?`
		args = append(args, org)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT 1000`
	out := []Token{}
	err := s.DB.R.SelectContext(ctx, &out, s.DB.Rebind(q), args...)
	return out, err
}

// Revoke ends a token: it gets 401 from then on. A token p does not
// see is NotFound.
func (s *Tokens) Revoke(ctx context.Context, p Principal, tokenID string) error {
	now := s.Now().UTC()
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		var t Token
		err := tx.GetContext(ctx, &t, tx.Rebind(`SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`), tokenID)
		if db.IsNoRows(err) || (err == nil && !p.Sees(deref(t.OrganizationID))) {
			return errs.E(errs.NotFound, "token %s not found", tokenID)
		}
		if err != nil {
			return err
		}
		if !p.Role.AtLeast(t.Role) {
			return errs.E(errs.Forbidden, "a %s may not revoke a %s token", p.Role, t.Role)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`), now, tokenID); err != nil {
			return err
		}
		return Record(ctx, tx, deref(t.OrganizationID), "token.revoke", "token", tokenID, map[string]Change{"revoked_at": {Before: nil, After: now}}, now)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// lastUsedEvery is how often a token's last-used time is written: at
// most once a minute, so a busy token does not make every read a write.
const lastUsedEvery = time.Minute

// Authenticate returns the principal of a token's secret: Unauthorized
// for one unknown, revoked or expired.
func (s *Tokens) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return Principal{}, errs.E(errs.Unauthorized, "unknown token")
	}
	var t Token
	err := s.DB.R.GetContext(ctx, &t, s.DB.Rebind(`SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`), hashToken(secret))
	if db.IsNoRows(err) {
		return Principal{}, errs.E(errs.Unauthorized, "unknown token")
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.Now().UTC()
	switch {
	case t.RevokedAt != nil:
		return Principal{}, errs.E(errs.Unauthorized, "this token was revoked")
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return Principal{}, errs.E(errs.Unauthorized, "this token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedEvery {
		if err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), now, t.ID)
			return err
		}); err != nil {
			return Principal{}, err
		}
	}
	return Principal{Kind: KindToken, ID: t.ID, OrganizationID: deref(t.OrganizationID), Role: t.Role}, nil
}
