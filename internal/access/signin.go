package access

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
)

// NormalEmail writes an email address the one way users are stored and
// found by (trimmed, lower case); Invalid when it is not an address.
func NormalEmail(s string) (string, error) { return normalEmail(s) }

// Sign-in methods.
const (
	MethodPassword = "password"
	MethodOIDC     = "oidc"
)

// SignIn is one attempt to sign in to the console.
type SignIn struct {
	// Method is MethodPassword or MethodOIDC.
	Method string
	// Subject is the OpenID Connect identity (issuer and subject) that
	// signed in, for MethodOIDC.
	Subject string
	// Source is the client address.
	Source string
}

// SignedInAs records a successful sign-in of u: its last sign-in time,
// and the audit event user.sign_in with u as its actor. With a Subject,
// the user is linked to it at its first single sign-on (its invitation
// is taken up); a user linked to another subject is refused (Forbidden),
// and so is a subject linked to another user (Conflict), so that a
// provider that gives an email to someone new does not give them the
// account.
func (s *Users) SignedInAs(ctx context.Context, u *User, si SignIn) error {
	now := s.Now().UTC()
	p := u.Principal()
	p.Source = si.Source
	ctx = WithPrincipal(ctx, p)
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		changes := map[string]Change{"method": {After: si.Method}}
		if si.Subject != "" {
			var linked sql.NullString
			if err := tx.GetContext(ctx, &linked, tx.Rebind(`SELECT oidc_subject FROM users WHERE id = ?`), u.ID); err != nil {
				return err
			}
			switch {
			case !linked.Valid:
				_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET oidc_subject = ? WHERE id = ?`), si.Subject, u.ID)
				if db.IsUniqueViolation(err) {
					return errs.E(errs.Conflict, "this single sign-on account is linked to another user already")
				}
				if err != nil {
					return err
				}
				changes["oidc_subject"] = Change{After: si.Subject}
			case linked.String != si.Subject:
				return errs.E(errs.Forbidden, "the user %s is linked to another single sign-on account", u.Email)
			}
		}
		if err := s.SignedIn(ctx, tx, u.ID, now); err != nil {
			return err
		}
		return Record(ctx, tx, deref(u.OrganizationID), "user.sign_in", "user", u.ID, changes, now)
	})
}

// KindAnonymous is the actor of what happens before anyone signed in:
// a refused sign-in.
const KindAnonymous Kind = "anonymous"

// SignInFailed records the audit event user.sign_in_failed: a refused
// attempt to sign in as email (u is nil when no user has it), for
// reason. Its actor is anonymous, from si.Source; the event belongs to
// u's organization, so its admins see attempts on their users.
func (s *Users) SignInFailed(ctx context.Context, u *User, email, reason string, si SignIn) error {
	now := s.Now().UTC()
	ctx = WithPrincipal(ctx, Principal{Kind: KindAnonymous, ID: "", Source: si.Source})
	org, id := "", ""
	if u != nil {
		org, id = deref(u.OrganizationID), u.ID
	}
	changes := map[string]Change{"method": {After: si.Method}, "reason": {After: reason}}
	if e, err := normalEmail(email); err == nil {
		// Only a valid address: a password typed into the email field
		// stays out of the log.
		changes["email"] = Change{After: e}
	}
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return Record(ctx, tx, org, "user.sign_in_failed", "user", id, changes, now)
	})
}

// SignedOut records the audit event user.sign_out.
func (s *Users) SignedOut(ctx context.Context, u *User, source string) error {
	now := s.Now().UTC()
	p := u.Principal()
	p.Source = source
	ctx = WithPrincipal(ctx, p)
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return Record(ctx, tx, deref(u.OrganizationID), "user.sign_out", "user", u.ID, nil, now)
	})
}

// ByID returns a user by its id, whatever its organization, for the
// console's session: NotFound when there is none.
func (s *Users) ByID(ctx context.Context, userID string) (*User, error) {
	var u User
	err := s.DB.R.GetContext(ctx, &u, s.DB.Rebind(`SELECT `+userColumns+` FROM users WHERE id = ?`), userID)
	if db.IsNoRows(err) {
		return nil, errs.E(errs.NotFound, "user %s not found", userID)
	}
	if err != nil {
		return nil, err
	}
	u.fill()
	return &u, nil
}
