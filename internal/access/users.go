package access

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
)

// User is a person who signs in to the console.
type User struct {
	ID             string     `db:"id" json:"id"`
	OrganizationID *string    `db:"organization_id" json:"organization_id,omitempty"`
	Email          string     `db:"email" json:"email"`
	Name           string     `db:"name" json:"name"`
	Role           Role       `db:"role" json:"role"`
	PasswordHash   string     `db:"password_hash" json:"-"`
	Disabled       bool       `db:"disabled" json:"disabled"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	LastSignInAt   *time.Time `db:"last_sign_in_at" json:"last_sign_in_at,omitempty"`
	// HasPassword says whether the user can sign in with a password (or
	// only through single sign-on).
	HasPassword bool `db:"-" json:"has_password"`
}

const userColumns = `id, organization_id, email, name, role, password_hash, disabled, created_at, updated_at, last_sign_in_at`

// NewUser is what a caller gives to create a user.
type NewUser struct {
	Email          string `json:"email"`
	Name           string `json:"name"`
	OrganizationID string `json:"organization_id"`
	Role           string `json:"role"`
	Password       string `json:"password"`
	// PasswordHash, when set, is a HashPassword of the password, made
	// before (the demo users' are made once per process).
	PasswordHash string `json:"-"`
}

// UserPatch is what PATCH changes; nil leaves a field.
type UserPatch struct {
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// Users keeps the people who sign in.
type Users struct {
	DB  *db.DB
	Now func() time.Time
}

// normalEmail checks an address and writes it the one way it is stored.
func normalEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" {
		return "", errs.E(errs.Invalid, "email %q is not an email address", s)
	}
	return strings.ToLower(a.Address), nil
}

// minPassword is the shortest password accepted.
const minPassword = 12

func checkPassword(pw string) error {
	if len(pw) < minPassword {
		return errs.E(errs.Invalid, "password must be at least %d characters", minPassword)
	}
	if len(pw) > 200 {
		return errs.E(errs.Invalid, "password must be at most 200 characters")
	}
	return nil
}

// Create makes a user for p. Without a password, the user can sign in
// only through single sign-on, with this email (an invitation).
func (s *Users) Create(ctx context.Context, p Principal, nu NewUser) (*User, error) {
	role, err := ParseRole(nu.Role)
	if err != nil {
		return nil, err
	}
	if p.Scoped() && nu.OrganizationID == "" {
		nu.OrganizationID = p.OrganizationID
	}
	if err := p.CheckGrant(nu.OrganizationID, role); err != nil {
		return nil, err
	}
	email, err := normalEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	nu.Name = strings.TrimSpace(nu.Name)
	if nu.Name == "" || len(nu.Name) > 200 {
		return nil, errs.E(errs.Invalid, "name is required, at most 200 characters")
	}
	hash := nu.PasswordHash
	if hash == "" && nu.Password != "" {
		if err := checkPassword(nu.Password); err != nil {
			return nil, err
		}
		hash = HashPassword(nu.Password)
	}
	now := s.Now().UTC()
	u := &User{ID: id.New("usr"), Email: email, Name: nu.Name, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if nu.OrganizationID != "" {
		org := nu.OrganizationID
		u.OrganizationID = &org
	}
	u.HasPassword = hash != ""
	err = s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := organizationExists(ctx, tx, nu.OrganizationID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.OrganizationID, u.Email, u.Name, u.Role, u.PasswordHash, u.Disabled, u.CreatedAt, u.UpdatedAt, u.LastSignInAt)
		if err != nil {
			return db.Translate(err, "a user with the email %s exists already", email)
		}
		return Record(ctx, tx, nu.OrganizationID, "user.create", "user", u.ID, Diff(nil, u), now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (u *User) fill() {
	u.HasPassword = u.PasswordHash != ""
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
}

// List returns the users of org (all when empty), by email.
func (s *Users) List(ctx context.Context, org string) ([]User, error) {
	q := `SELECT ` + userColumns + ` FROM users`
	var args []any
	if org != "" {
		q += ` WHERE organization_id = ?`
		args = append(args, org)
	}
	q += ` ORDER BY email LIMIT 1000`
	out := []User{}
	if err := s.DB.R.SelectContext(ctx, &out, s.DB.Rebind(q), args...); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].fill()
	}
	return out, nil
}

func (s *Users) get(ctx context.Context, q sqlx.QueryerContext, p Principal, userID string) (*User, error) {
	var u User
	err := sqlx.GetContext(ctx, q, &u, s.DB.Rebind(`SELECT `+userColumns+` FROM users WHERE id = ?`), userID)
	if db.IsNoRows(err) || (err == nil && !p.Sees(deref(u.OrganizationID))) {
		return nil, errs.E(errs.NotFound, "user %s not found", userID)
	}
	if err != nil {
		return nil, err
	}
	u.fill()
	return &u, nil
}

// Get returns a user p sees.
func (s *Users) Get(ctx context.Context, p Principal, userID string) (*User, error) {
	return s.get(ctx, s.DB.R, p, userID)
}

// Update changes a user's name, role, password or disabled flag.
func (s *Users) Update(ctx context.Context, p Principal, userID string, up UserPatch) (*User, error) {
	now := s.Now().UTC()
	var after *User
	err := s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		before, err := s.get(ctx, tx, p, userID)
		if err != nil {
			return err
		}
		if !p.Role.AtLeast(before.Role) {
			return errs.E(errs.Forbidden, "a %s may not change a %s", p.Role, before.Role)
		}
		u := *before
		if up.Name != nil {
			u.Name = strings.TrimSpace(*up.Name)
			if u.Name == "" || len(u.Name) > 200 {
				return errs.E(errs.Invalid, "name is required, at most 200 characters")
			}
		}
		if up.Role != nil {
			r, err := ParseRole(*up.Role)
			if err != nil {
				return err
			}
			if err := p.CheckGrant(deref(u.OrganizationID), r); err != nil {
				return err
			}
			u.Role = r
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if up.Password != nil {
			if err := checkPassword(*up.Password); err != nil {
				return err
			}
			u.PasswordHash = HashPassword(*up.Password)
		}
		u.UpdatedAt = now
		u.HasPassword = u.PasswordHash != ""
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET name = ?, role = ?, disabled = ?, password_hash = ?, updated_at = ? WHERE id = ?`),
			u.Name, u.Role, u.Disabled, u.PasswordHash, u.UpdatedAt, u.ID); err != nil {
			return err
		}
		changes := Diff(before, &u)
		delete(changes, "updated_at")
		if up.Password != nil {
			changes["password"] = Change{After: masked}
		}
		after = &u
		return Record(ctx, tx, deref(u.OrganizationID), "user.update", "user", u.ID, changes, now)
	})
	return after, err
}

// Delete removes a user.
func (s *Users) Delete(ctx context.Context, p Principal, userID string) error {
	now := s.Now().UTC()
	return s.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		u, err := s.get(ctx, tx, p, userID)
		if err != nil {
			return err
		}
		if !p.Role.AtLeast(u.Role) {
			return errs.E(errs.Forbidden, "a %s may not delete a %s", p.Role, u.Role)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM users WHERE id = ?`), u.ID); err != nil {
			return err
		}
		return Record(ctx, tx, deref(u.OrganizationID), "user.delete", "user", u.ID, Diff(u, nil), now)
	})
}

// ByEmail returns the user with an email, for sign-in: NotFound when
// there is none.
func (s *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	e, err := normalEmail(email)
	if err != nil {
		return nil, errs.E(errs.NotFound, "no user")
	}
	var u User
	err = s.DB.R.GetContext(ctx, &u, s.DB.Rebind(`SELECT `+userColumns+` FROM users WHERE email = ?`), e)
	if err != nil {
		return nil, db.Translate(err, "no user with email %s", e)
	}
	u.fill()
	return &u, nil
}

// SignedIn records a sign-in's time.
func (s *Users) SignedIn(ctx context.Context, tx *sqlx.Tx, userID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET last_sign_in_at = ? WHERE id = ?`), now.UTC(), userID)
	return err
}

// Principal is the user as a principal.
func (u *User) Principal() Principal {
	return Principal{Kind: KindUser, ID: u.ID, OrganizationID: deref(u.OrganizationID), Role: u.Role}
}
