package invoicing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/organization"
)

// Limits of purchase-order management (seed 003).
const (
	MaxLineItems   = 100
	MaxActivePOs   = 100
	MaxContacts    = 10
	MaxPONumberLen = 200
)

// LineItemType says which invoices a PO line item may carry.
type LineItemType string

// Line item types, from least to most specific.
const (
	LineAll                     LineItemType = "all"
	LineMonthlyUsage            LineItemType = "monthly_usage"
	LineSubscription            LineItemType = "subscription"
	LineMarketplaceTransaction  LineItemType = "marketplace_transaction"
	LineMarketplaceBlanketUsage LineItemType = "marketplace_blanket_usage"
)

func (t LineItemType) valid() bool {
	switch t {
	case LineAll, LineMonthlyUsage, LineSubscription, LineMarketplaceTransaction, LineMarketplaceBlanketUsage:
		return true
	}
	return false
}

// Marketplace reports whether the type is a marketplace line item, for
// which balance tracking is never enabled.
func (t LineItemType) Marketplace() bool {
	return t == LineMarketplaceTransaction || t == LineMarketplaceBlanketUsage
}

// Statuses of a purchase order.
const (
	StatusActive           = "active"
	StatusSuspended        = "suspended"
	StatusExpired          = "expired"
	StatusSuspendedExpired = "suspended-expired"
)

// Contact receives a PO's notifications.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// LineItem is one line of a purchase order.
type LineItem struct {
	ID         string       `json:"id"`
	Type       LineItemType `json:"type"`
	StartMonth string       `json:"start_month"`
	EndMonth   string       `json:"end_month"`
	// Amount is the line item's value. Balance is what is left of it, for
	// line items with balance tracking; marketplace line items have none.
	// A line item an admin enters without a currency has bare amounts
	// (two decimals) until the first invoice that draws it down gives it
	// that invoice's currency.
	Amount      money.Amount `json:"amount,omitzero"`
	Balance     money.Amount `json:"balance,omitzero"`
	Currency    string       `json:"currency,omitempty"`
	AgreementID string       `json:"agreement_id,omitempty"`
	Note        string       `json:"note,omitempty"`
}

// place puts the line item's amounts, read bare from their columns or
// from JSON, in its currency, where it has one (a valid one: validate
// reports others).
func (li *LineItem) place() (err error) {
	if li.Currency == "" {
		return nil
	}
	if li.Amount, err = li.Amount.In(li.Currency); err != nil {
		return err
	}
	li.Balance, err = li.Balance.In(li.Currency)
	return err
}

// UnmarshalJSON reads a line item as an admin sends it or the API writes
// it, its amounts in its currency. Unknown fields are refused, as
// everywhere in the admin API.
func (li *LineItem) UnmarshalJSON(b []byte) error {
	type plain LineItem
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode((*plain)(li)); err != nil {
		return err
	}
	if _, err := money.Currency(li.Currency); err != nil {
		return nil // validate says what is wrong with it.
	}
	return li.place()
}

// PurchaseOrder is a buyer's PO as the gateway keeps it.
type PurchaseOrder struct {
	ID              string     `json:"id"`
	OrganizationID  string     `json:"organization_id"`
	BillFrom        string     `json:"bill_from"`
	EffectiveMonth  string     `json:"effective_month"`
	ExpirationMonth string     `json:"expiration_month"`
	Status          string     `json:"status"`
	Contacts        []Contact  `json:"contacts"`
	LineItems       []LineItem `json:"line_items"`
	CreatedBy       string     `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`

	adminStatus string
}

// Month is a calendar month "YYYY-MM".
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

func validMonth(s string) bool {
	_, err := time.Parse("2006-01", s)
	return err == nil
}

// StatusAt is the PO's status in a month: suspension is an admin's
// choice, expiry follows from the expiration month.
func StatusAt(adminStatus, expirationMonth, month string) string {
	expired := expirationMonth < month
	switch {
	case adminStatus == StatusSuspended && expired:
		return StatusSuspendedExpired
	case adminStatus == StatusSuspended:
		return StatusSuspended
	case expired:
		return StatusExpired
	}
	return StatusActive
}

// ValidatePONumber checks a PO number as a buyer gives it: up to 200
// characters of printable text.
func ValidatePONumber(n string) (string, error) {
	n = strings.TrimSpace(n)
	switch {
	case n == "":
		return "", errs.E(errs.Invalid, "the purchase order number is empty")
	case len([]rune(n)) > MaxPONumberLen:
		return "", errs.E(errs.Invalid, "the purchase order number is longer than %d characters", MaxPONumberLen)
	case strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", errs.E(errs.Invalid, "the purchase order number contains control characters")
	}
	return n, nil
}

func (li *LineItem) validate(i int) error {
	bad := func(format string, args ...any) error {
		return errs.E(errs.Invalid, "line_items[%d]: %s", i, fmt.Sprintf(format, args...))
	}
	if !li.Type.valid() {
		return bad("type must be all, monthly_usage, subscription, marketplace_transaction or marketplace_blanket_usage")
	}
	if !validMonth(li.StartMonth) || !validMonth(li.EndMonth) {
		return bad("start_month and end_month must be months YYYY-MM")
	}
	if li.EndMonth < li.StartMonth {
		return bad("end_month %s is before start_month %s", li.EndMonth, li.StartMonth)
	}
	li.Currency = strings.ToUpper(strings.TrimSpace(li.Currency))
	if li.Currency != "" {
		if _, err := money.Currency(li.Currency); err != nil {
			return bad("currency must be an ISO 4217 code such as USD")
		}
	}
	if li.Amount.IsSet() {
		if li.Type.Marketplace() {
			return bad("balance tracking is not available for marketplace line items; leave amount out")
		}
		if li.Amount.Sign() < 0 {
			return bad("amount must be a non-negative decimal string such as \"50000.00\"")
		}
		if err := li.place(); err != nil {
			return bad("%s", errs.MessageOf(err))
		}
		// The amount and balance keep the currency's own decimals (JPY
		// 0, BHD 3); without a currency, two until an invoice gives it one.
		if li.Currency != "" && !li.Amount.WholeMinorUnits() {
			return bad("amount %s has more decimals than %s allows (%d)", li.Amount.Decimal().String(), li.Currency, li.Amount.Decimals())
		}
		li.Balance = li.Amount
	} else {
		li.Balance = money.Amount{}
	}
	return nil
}

// Validate checks a PO an admin sends.
func (po *PurchaseOrder) Validate() error {
	n, err := ValidatePONumber(po.ID)
	if err != nil {
		return err
	}
	po.ID = n
	if po.OrganizationID == "" {
		return errs.E(errs.Invalid, "organization_id is required")
	}
	if !validMonth(po.EffectiveMonth) || !validMonth(po.ExpirationMonth) {
		return errs.E(errs.Invalid, "effective_month and expiration_month must be months YYYY-MM")
	}
	if po.ExpirationMonth < po.EffectiveMonth {
		return errs.E(errs.Invalid, "expiration_month %s is before effective_month %s", po.ExpirationMonth, po.EffectiveMonth)
	}
	if err := validateContacts(po.Contacts); err != nil {
		return err
	}
	if len(po.LineItems) > MaxLineItems {
		return errs.E(errs.Invalid, "a purchase order has at most %d line items; this one has %d", MaxLineItems, len(po.LineItems))
	}
	for i := range po.LineItems {
		if err := po.LineItems[i].validate(i); err != nil {
			return err
		}
	}
	switch po.Status {
	case "", StatusActive:
		po.adminStatus = StatusActive
	case StatusSuspended:
		po.adminStatus = StatusSuspended
	default:
		return errs.E(errs.Invalid, "status must be active or suspended (expiry follows from expiration_month)")
	}
	return nil
}

func validateContacts(cs []Contact) error {
	if len(cs) > MaxContacts {
		return errs.E(errs.Invalid, "a purchase order has at most %d contacts; %d were given", MaxContacts, len(cs))
	}
	for i := range cs {
		cs[i].Name, cs[i].Email = strings.TrimSpace(cs[i].Name), strings.TrimSpace(cs[i].Email)
		if a, err := mail.ParseAddress(cs[i].Email); err != nil || a.Address != cs[i].Email {
			return errs.E(errs.Invalid, "contacts[%d].email %q is not an email address", i, cs[i].Email)
		}
	}
	return nil
}

// PurchaseOrders keeps purchase orders.
type PurchaseOrders struct {
	db  *db.DB
	now func() time.Time
}

// NewPurchaseOrders returns the PO store; now is its clock.
func NewPurchaseOrders(d *db.DB, now func() time.Time) *PurchaseOrders {
	return &PurchaseOrders{db: d, now: now}
}

type poRow struct {
	OrganizationID  string    `db:"organization_id"`
	PONumber        string    `db:"po_number"`
	BillFrom        string    `db:"bill_from"`
	EffectiveMonth  string    `db:"effective_month"`
	ExpirationMonth string    `db:"expiration_month"`
	AdminStatus     string    `db:"admin_status"`
	CreatedBy       string    `db:"created_by"`
	CreatedAt       time.Time `db:"created_at"`
	UpdatedAt       time.Time `db:"updated_at"`
}

type lineRow struct {
	ID             string       `db:"id"`
	OrganizationID string       `db:"organization_id"`
	PONumber       string       `db:"po_number"`
	Type           string       `db:"type"`
	StartMonth     string       `db:"start_month"`
	EndMonth       string       `db:"end_month"`
	Amount         money.Amount `db:"amount"`
	Balance        money.Amount `db:"balance"`
	Currency       string       `db:"currency"`
	AgreementID    *string      `db:"agreement_id"`
	Note           string       `db:"note"`
	CreatedAt      time.Time    `db:"created_at"`
}

// lineItem reads a stored line item, its amounts in its currency (bare
// where it has none yet).
func (l *lineRow) lineItem() (LineItem, error) {
	li := LineItem{ID: l.ID, Type: LineItemType(l.Type), StartMonth: l.StartMonth, EndMonth: l.EndMonth,
		Amount: l.Amount, Balance: l.Balance, Currency: l.Currency, Note: l.Note}
	if l.AgreementID != nil {
		li.AgreementID = *l.AgreementID
	}
	if err := li.place(); err != nil {
		return li, fmt.Errorf("PO %s line item %s: %w", l.PONumber, l.ID, err)
	}
	return li, nil
}

const poColumns = `organization_id, po_number, bill_from, effective_month, expiration_month, admin_status, created_by, created_at, updated_at`
const lineColumns = `id, organization_id, po_number, type, start_month, end_month, amount, balance, currency, agreement_id, note, created_at`

// countOtherActiveSQL counts an organization's POs that are active in a
// month, excluding one PO number (the one being changed); its parameters
// are the organization, the PO number and the month.
const countOtherActiveSQL = `SELECT COUNT(*) FROM purchase_orders
	WHERE organization_id = ? AND po_number <> ? AND admin_status = 'active' AND expiration_month >= ?`

// countActive counts the organization's POs that are active this month,
// excluding one PO number (the one being changed).
func countActive(ctx context.Context, tx sqlx.ExtContext, orgID, except, month string) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, tx, &n, tx.Rebind(countOtherActiveSQL), orgID, except, month)
	return n, err
}

func activeLimitError(orgID string) error {
	return errs.E(errs.Conflict, "organization %s already has %d active purchase orders, the most it may have; suspend one, or let one expire, first", orgID, MaxActivePOs)
}

// Create stores a PO an admin enters. Conflict when the number exists in
// the organization or the active-PO limit is reached.
func (s *PurchaseOrders) Create(ctx context.Context, po *PurchaseOrder) error {
	if err := po.Validate(); err != nil {
		return err
	}
	now := s.now().UTC()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := organization.Get(ctx, tx, po.OrganizationID); err != nil {
			return err
		}
		if StatusAt(po.adminStatus, po.ExpirationMonth, Month(now)) == StatusActive {
			active, err := countActive(ctx, tx, po.OrganizationID, po.ID, Month(now))
			if err != nil {
				return err
			}
			if active >= MaxActivePOs {
				return activeLimitError(po.OrganizationID)
			}
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO purchase_orders (`+poColumns+`) VALUES (?, ?, ?, ?, ?, ?, 'admin', ?, ?)`),
			po.OrganizationID, po.ID, po.BillFrom, po.EffectiveMonth, po.ExpirationMonth, po.adminStatus, now, now)
		if err != nil {
			return db.Translate(err, "purchase order %s already exists in organization %s", po.ID, po.OrganizationID)
		}
		if err := replaceContacts(ctx, tx, po.OrganizationID, po.ID, po.Contacts); err != nil {
			return err
		}
		for i := range po.LineItems {
			li := po.LineItems[i]
			if _, err := insertLine(ctx, tx, po.OrganizationID, po.ID, &li, now); err != nil {
				return err
			}
		}
		created, err := s.get(ctx, tx, po.OrganizationID, po.ID)
		if err != nil {
			return err
		}
		return access.Record(ctx, tx, po.OrganizationID, "purchase_order.create", "purchase_order", po.ID, access.Diff(nil, created), now)
	})
	if err != nil {
		return err
	}
	got, err := s.Get(ctx, po.OrganizationID, po.ID)
	if err != nil {
		return err
	}
	*po = *got
	return nil
}

func replaceContacts(ctx context.Context, tx sqlx.ExtContext, orgID, number string, cs []Contact) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM po_contacts WHERE organization_id = ? AND po_number = ?`), orgID, number); err != nil {
		return err
	}
	for i, c := range cs {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO po_contacts (organization_id, po_number, position, name, email) VALUES (?, ?, ?, ?, ?)`),
			orgID, number, i, c.Name, c.Email); err != nil {
			return err
		}
	}
	return nil
}

func insertLine(ctx context.Context, tx sqlx.ExtContext, orgID, number string, li *LineItem, now time.Time) (*LineItem, error) {
	var n int
	if err := sqlx.GetContext(ctx, tx, &n, tx.Rebind(`SELECT COUNT(*) FROM po_line_items WHERE organization_id = ? AND po_number = ?`), orgID, number); err != nil {
		return nil, err
	}
	if n >= MaxLineItems {
		return nil, errs.E(errs.Conflict, "purchase order %s already has %d line items, the most a purchase order may have; use another PO number", number, MaxLineItems)
	}
	li.ID = id.New("poli")
	var agreement *string
	if li.AgreementID != "" {
		agreement = &li.AgreementID
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO po_line_items (`+lineColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		li.ID, orgID, number, li.Type, li.StartMonth, li.EndMonth, li.Amount, li.Balance, li.Currency, agreement, li.Note, now)
	return li, err
}

// Get returns a PO with its contacts and line items.
func (s *PurchaseOrders) Get(ctx context.Context, orgID, number string) (*PurchaseOrder, error) {
	return s.get(ctx, s.db.R, orgID, number)
}

func (s *PurchaseOrders) get(ctx context.Context, q sqlx.ExtContext, orgID, number string) (*PurchaseOrder, error) {
	var r poRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+poColumns+` FROM purchase_orders WHERE organization_id = ? AND po_number = ?`), orgID, number)
	if err != nil {
		return nil, db.Translate(err, "purchase order %s not found in organization %s", number, orgID)
	}
	po := &PurchaseOrder{
		ID: r.PONumber, OrganizationID: r.OrganizationID, BillFrom: r.BillFrom, EffectiveMonth: r.EffectiveMonth,
		ExpirationMonth: r.ExpirationMonth, Status: StatusAt(r.AdminStatus, r.ExpirationMonth, Month(s.now())),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, adminStatus: r.AdminStatus, Contacts: []Contact{}, LineItems: []LineItem{},
	}
	if err := sqlx.SelectContext(ctx, q, &po.Contacts, q.Rebind(`SELECT name, email FROM po_contacts WHERE organization_id = ? AND po_number = ? ORDER BY position`), orgID, number); err != nil {
		return nil, err
	}
	var lines []lineRow
	if err := sqlx.SelectContext(ctx, q, &lines, q.Rebind(`SELECT `+lineColumns+` FROM po_line_items WHERE organization_id = ? AND po_number = ? ORDER BY created_at, id`), orgID, number); err != nil {
		return nil, err
	}
	for _, l := range lines {
		li, err := l.lineItem()
		if err != nil {
			return nil, err
		}
		po.LineItems = append(po.LineItems, li)
	}
	return po, nil
}

// Find returns the POs with a number, across organizations (for the
// API's GET by number without an organization).
func (s *PurchaseOrders) Find(ctx context.Context, number string) ([]*PurchaseOrder, error) {
	var orgs []string
	if err := s.db.R.SelectContext(ctx, &orgs, s.db.Rebind(`SELECT organization_id FROM purchase_orders WHERE po_number = ? ORDER BY organization_id`), number); err != nil {
		return nil, err
	}
	var out []*PurchaseOrder
	for _, o := range orgs {
		po, err := s.Get(ctx, o, number)
		if err != nil {
			return nil, err
		}
		out = append(out, po)
	}
	return out, nil
}

// List returns an organization's POs.
func (s *PurchaseOrders) List(ctx context.Context, orgID string) ([]*PurchaseOrder, error) {
	var numbers []string
	if err := s.db.R.SelectContext(ctx, &numbers, s.db.Rebind(`SELECT po_number FROM purchase_orders WHERE organization_id = ? ORDER BY created_at, po_number`), orgID); err != nil {
		return nil, err
	}
	out := []*PurchaseOrder{}
	for _, n := range numbers {
		po, err := s.Get(ctx, orgID, n)
		if err != nil {
			return nil, err
		}
		out = append(out, po)
	}
	return out, nil
}

// Change is an admin's change to a PO; nil fields are left as they are.
type Change struct {
	Status          *string    `json:"status"`
	BillFrom        *string    `json:"bill_from"`
	ExpirationMonth *string    `json:"expiration_month"`
	Contacts        *[]Contact `json:"contacts"`
	AddLineItems    []LineItem `json:"add_line_items"`
}

// Update applies an admin's change. Reactivating a PO counts against the
// active-PO limit.
func (s *PurchaseOrders) Update(ctx context.Context, orgID, number string, ch *Change) (*PurchaseOrder, error) {
	now := s.now().UTC()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		po, err := s.get(ctx, tx, orgID, number)
		if err != nil {
			return err
		}
		adminStatus, expiration, billFrom := po.adminStatus, po.ExpirationMonth, po.BillFrom
		if ch.Status != nil {
			switch *ch.Status {
			case StatusActive, StatusSuspended:
				adminStatus = *ch.Status
			default:
				return errs.E(errs.Invalid, "status must be active or suspended (expiry follows from expiration_month)")
			}
		}
		if ch.ExpirationMonth != nil {
			if !validMonth(*ch.ExpirationMonth) || *ch.ExpirationMonth < po.EffectiveMonth {
				return errs.E(errs.Invalid, "expiration_month must be a month YYYY-MM, not before effective_month %s", po.EffectiveMonth)
			}
			expiration = *ch.ExpirationMonth
		}
		if ch.BillFrom != nil {
			billFrom = strings.TrimSpace(*ch.BillFrom)
		}
		if StatusAt(adminStatus, expiration, Month(now)) == StatusActive && po.Status != StatusActive {
			active, err := countActive(ctx, tx, orgID, number, Month(now))
			if err != nil {
				return err
			}
			if active >= MaxActivePOs {
				return activeLimitError(orgID)
			}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE purchase_orders SET admin_status = ?, expiration_month = ?, bill_from = ?, updated_at = ?
			WHERE organization_id = ? AND po_number = ?`), adminStatus, expiration, billFrom, now, orgID, number); err != nil {
			return err
		}
		if ch.Contacts != nil {
			if err := validateContacts(*ch.Contacts); err != nil {
				return err
			}
			if err := replaceContacts(ctx, tx, orgID, number, *ch.Contacts); err != nil {
				return err
			}
		}
		for i := range ch.AddLineItems {
			li := ch.AddLineItems[i]
			if err := li.validate(i); err != nil {
				return err
			}
			if _, err := insertLine(ctx, tx, orgID, number, &li, now); err != nil {
				return err
			}
		}
		after, err := s.get(ctx, tx, orgID, number)
		if err != nil {
			return err
		}
		changes := access.Diff(po, after)
		delete(changes, "updated_at")
		return access.Record(ctx, tx, orgID, "purchase_order.update", "purchase_order", number, changes, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, orgID, number)
}

// MarketplaceLine is a line item an agreement adds to its PO.
type MarketplaceLine struct {
	OrganizationID string
	PONumber       string
	AgreementID    string
	StartMonth     string
	EndMonth       string
	// Amount is in the agreement's currency, which the line item takes.
	Amount money.Amount
	Note   string
}

// AddMarketplaceLine adds one marketplace-transaction line item; see
// AddMarketplaceLines.
func (s *PurchaseOrders) AddMarketplaceLine(ctx context.Context, tx sqlx.ExtContext, ml MarketplaceLine, now time.Time) (*LineItem, error) {
	lis, err := s.AddMarketplaceLines(ctx, tx, []MarketplaceLine{ml}, now)
	if err != nil {
		return nil, err
	}
	return lis[0], nil
}

// AddMarketplaceLines adds marketplace-transaction line items to POs,
// inside the caller's transaction, applying the seeds' rules:
//   - a PO number that does not exist creates a PO with default details
//     (effective this month, expiring with its line items) and no contacts;
//   - an expired PO gets the line item and becomes active again, its
//     expiration set to the line item's end;
//   - a suspended PO gets the line item; invoices do not carry the PO
//     while it stays suspended;
//   - at most 100 line items per PO and 100 active POs per organization.
//
// Balance tracking is never enabled for marketplace line items. Lines of
// one PO are written together, so an order's lines cost one PO lookup.
func (s *PurchaseOrders) AddMarketplaceLines(ctx context.Context, tx sqlx.ExtContext, lines []MarketplaceLine, now time.Time) ([]*LineItem, error) {
	now = now.UTC()
	month := Month(now)
	type key struct{ org, number string }
	var order []key
	groups := map[key][]int{}
	for i := range lines {
		number, err := ValidatePONumber(lines[i].PONumber)
		if err != nil {
			return nil, err
		}
		lines[i].PONumber = number
		k := key{lines[i].OrganizationID, number}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([]*LineItem, len(lines))
	for _, k := range order {
		idx := groups[k]
		end := month
		start := month
		for _, i := range idx {
			end = max(end, lines[i].EndMonth)
			start = min(start, lines[i].StartMonth)
		}
		// One query tells whether the PO exists, in what state, how many
		// line items it has, and how many other POs are active. Scalar
		// subqueries, not a join: SQLite re-prepares a join with bound
		// parameters in its WHERE every time they are bound.
		var r struct {
			Exists          bool   `db:"po_exists"`
			ExpirationMonth string `db:"expiration_month"`
			AdminStatus     string `db:"admin_status"`
			Lines           int    `db:"line_items"`
			OtherActive     int    `db:"other_active"`
		}
		err := sqlx.GetContext(ctx, tx, &r, tx.Rebind(`SELECT
				EXISTS (SELECT 1 FROM purchase_orders WHERE organization_id = ? AND po_number = ?) AS po_exists,
				COALESCE((SELECT expiration_month FROM purchase_orders WHERE organization_id = ? AND po_number = ?), '') AS expiration_month,
				COALESCE((SELECT admin_status FROM purchase_orders WHERE organization_id = ? AND po_number = ?), '') AS admin_status,
				(SELECT COUNT(*) FROM po_line_items WHERE organization_id = ? AND po_number = ?) AS line_items,
				(`+countOtherActiveSQL+`) AS other_active`),
			k.org, k.number, k.org, k.number, k.org, k.number, k.org, k.number, k.org, k.number, month)
		if err != nil {
			return nil, err
		}
		switch {
		case !r.Exists:
			if r.OtherActive >= MaxActivePOs {
				return nil, activeLimitError(k.org)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO purchase_orders (`+poColumns+`) VALUES (?, ?, '', ?, ?, 'active', 'order', ?, ?)`),
				k.org, k.number, start, end, now, now); err != nil {
				return nil, err
			}
		case r.ExpirationMonth < month: // Expired: the new line items revive it.
			if r.AdminStatus == StatusActive && r.OtherActive >= MaxActivePOs {
				return nil, activeLimitError(k.org)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE purchase_orders SET expiration_month = ?, updated_at = ? WHERE organization_id = ? AND po_number = ?`),
				end, now, k.org, k.number); err != nil {
				return nil, err
			}
		}
		if r.Lines+len(idx) > MaxLineItems {
			return nil, errs.E(errs.Conflict, "purchase order %s has %d line items and this order would add %d; a purchase order has at most %d, so use another PO number",
				k.number, r.Lines, len(idx), MaxLineItems)
		}
		// The amount is recorded for the buyer to read; with no balance,
		// the line item is not tracked.
		args := make([]any, 0, 12*len(idx))
		for _, i := range idx {
			ml := lines[i]
			li := &LineItem{
				ID: id.New("poli"), Type: LineMarketplaceTransaction, StartMonth: ml.StartMonth, EndMonth: ml.EndMonth,
				Amount: ml.Amount, Currency: ml.Amount.Currency(), AgreementID: ml.AgreementID, Note: ml.Note,
			}
			out[i] = li
			var agreement *string
			if li.AgreementID != "" {
				agreement = &li.AgreementID
			}
			args = append(args, li.ID, k.org, k.number, li.Type, li.StartMonth, li.EndMonth, li.Amount, li.Balance, li.Currency, agreement, li.Note, now)
		}
		if err := db.InsertRows(ctx, tx, `INSERT INTO po_line_items (`+lineColumns+`) VALUES `,
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args); err != nil {
			return nil, err
		}
	}
	return out, nil
}
