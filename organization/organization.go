// Package organization owns the buyer organizations: the companies whose
// procurement systems connect to the gateway. Connections (punchout/),
// private marketplaces (catalog/) and purchase orders (invoicing/) all
// belong to one organization, and every query in those packages is
// scoped by its ID, so one organization's connection can never act for
// another.
//
// An organization gets purchase-order numbers either from its procurement
// system (Coupa or Ariba, over cXML) or from PO entry at checkout, or
// neither, never both: that is its POMode.
package organization

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
)

// POMode says where an organization's PO numbers come from.
type POMode string

// The PO modes.
const (
	POModeProcurementSystem POMode = "procurement_system"
	POModeCheckout          POMode = "checkout"
	POModeNone              POMode = "none"
)

// Organization is a buyer organization.
type Organization struct {
	ID        string    `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	POMode    POMode    `db:"po_mode" json:"po_mode"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Validate checks the fields an admin sets.
func (o *Organization) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return errs.E(errs.Invalid, "name is required")
	}
	if len(o.Name) > 200 {
		return errs.E(errs.Invalid, "name is longer than 200 characters")
	}
	switch o.POMode {
	case POModeProcurementSystem, POModeCheckout, POModeNone:
	case "":
		o.POMode = POModeProcurementSystem
	default:
		return errs.E(errs.Invalid, "po_mode must be procurement_system, checkout or none (an organization uses one of them, never both)")
	}
	return nil
}

// Store keeps organizations.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// NewStore returns a Store on d; now is its clock.
func NewStore(d *db.DB, now func() time.Time) *Store { return &Store{db: d, now: now} }

// Create validates o, gives it an ID unless it has one, and stores it.
// It returns an Invalid error for bad fields and Conflict for a taken ID.
func (s *Store) Create(ctx context.Context, o *Organization) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.ID == "" {
		o.ID = id.New("org")
	}
	o.CreatedAt = s.now().UTC()
	return s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := Insert(ctx, tx, o); err != nil {
			return err
		}
		return access.Record(ctx, tx, o.ID, "organization.create", "organization", o.ID, access.Diff(nil, o), o.CreatedAt)
	})
}

// Insert stores a validated organization inside tx.
func Insert(ctx context.Context, tx sqlx.ExtContext, o *Organization) error {
	_, err := sqlx.NamedExecContext(ctx, tx,
		`INSERT INTO organizations (id, name, po_mode, created_at) VALUES (:id, :name, :po_mode, :created_at)`, o)
	return db.Translate(err, "organization %s already exists", o.ID)
}

// Get returns the organization with the ID, or a NotFound error.
func (s *Store) Get(ctx context.Context, orgID string) (*Organization, error) {
	return Get(ctx, s.db.R, orgID)
}

// Get reads an organization through q, inside or outside a transaction.
func Get(ctx context.Context, q sqlx.ExtContext, orgID string) (*Organization, error) {
	var o Organization
	err := sqlx.GetContext(ctx, q, &o, q.Rebind(`SELECT id, name, po_mode, created_at FROM organizations WHERE id = ?`), orgID)
	if err != nil {
		return nil, db.Translate(err, "organization %s not found", orgID)
	}
	return &o, nil
}

// List returns all organizations, oldest first.
func (s *Store) List(ctx context.Context) ([]Organization, error) {
	out := []Organization{}
	err := s.db.R.SelectContext(ctx, &out, `SELECT id, name, po_mode, created_at FROM organizations ORDER BY created_at, id`)
	return out, err
}
