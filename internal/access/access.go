// Package access is who may do what: the principals that call the admin
// API and the console (people, API tokens, the bootstrap token), their
// roles, and the audit log of what they changed.
//
// The organization is the tenant. A principal belongs to one
// organization, with the role viewer, billing or admin, or to none, with
// the role operator (the marketplace's own staff, and the bootstrap token
// given with --admin-token). Each route of the admin API declares the
// least role it needs and how the organization of what it touches is
// found (Policy); Guard enforces both before the handler runs, so an
// organization's principal never reaches another organization's
// objects: a foreign object is answered 404, as if it did not exist.
package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/cxmlgate/punchout/internal/errs"
)

// Role is what a principal may do. Each role may do what the ones before
// it may.
type Role string

// The roles, least first.
const (
	// Viewer reads its organization's connections (never secrets), POs,
	// agreements, charges, invoices and exchanges.
	Viewer Role = "viewer"
	// Billing is Viewer, plus POs, agreements' PO numbers, invoice
	// resends and usage records.
	Billing Role = "billing"
	// Admin is Billing, plus connections and their secrets, the private
	// marketplace, and the users and tokens of its organization.
	Admin Role = "admin"
	// Operator belongs to no organization: everything for every
	// organization, plus organizations, the catalog and billing runs.
	Operator Role = "operator"
)

var roles = []Role{Viewer, Billing, Admin, Operator}

// ParseRole checks a role given by a caller.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(roles, r) {
		return "", errs.E(errs.Invalid, "role must be viewer, billing, admin or operator")
	}
	return r, nil
}

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool {
	return slices.Index(roles, r) >= slices.Index(roles, min) && slices.Index(roles, min) >= 0
}

// Kind is what a principal is.
type Kind string

// The kinds of principal.
const (
	KindUser      Kind = "user"
	KindToken     Kind = "token"
	KindBootstrap Kind = "bootstrap"
	// KindSystem is the gateway itself: the changes of a cXML order, a
	// billing run from the command line, the demo data.
	KindSystem Kind = "system"
)

// System is the gateway acting by itself.
var System = Principal{Kind: KindSystem, ID: "gateway", Role: Operator}

// Principal is who makes a request.
type Principal struct {
	Kind Kind
	// ID is the user's or the token's id ("bootstrap" for the bootstrap
	// token).
	ID string
	// OrganizationID is empty for an operator.
	OrganizationID string
	Role           Role
	// Source is the client address the request came from.
	Source string
}

// Scoped reports whether the principal sees one organization only.
func (p Principal) Scoped() bool { return p.OrganizationID != "" }

// Sees reports whether the principal may see objects of organization
// org.
func (p Principal) Sees(org string) bool { return !p.Scoped() || p.OrganizationID == org }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request ctx belongs to.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// CheckGrant refuses a principal that would give (to a user or a token)
// a role above its own, or one in another organization.
func (p Principal) CheckGrant(org string, role Role) error {
	if !p.Role.AtLeast(role) {
		return errs.E(errs.Forbidden, "a %s may not give the role %s: only roles up to its own", p.Role, role)
	}
	if p.Scoped() && org != p.OrganizationID {
		return errs.E(errs.Forbidden, "users and tokens can be made in your own organization (%s) only", p.OrganizationID)
	}
	if role == Operator && org != "" {
		return errs.E(errs.Invalid, "an operator belongs to no organization: leave organization_id out")
	}
	if role != Operator && org == "" {
		return errs.E(errs.Invalid, "organization_id is required for the role %s", role)
	}
	return nil
}

func (p Principal) String() string { return fmt.Sprintf("%s %s (%s)", p.Kind, p.ID, p.Role) }
