package invoicing

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/money"
)

// Agreement statuses.
const (
	AgreementActive    = "active"
	AgreementCancelled = "cancelled"
)

// Agreement is a subscription: one accepted order line.
type Agreement struct {
	ID             string  `db:"id" json:"id"`
	OrganizationID string  `db:"organization_id" json:"organization_id"`
	ConnectionID   *string `db:"connection_id" json:"connection_id,omitempty"`
	OrderRef       string  `db:"order_ref" json:"-"`
	OrderID        string  `db:"order_id" json:"order_id"`
	LineNumber     int     `db:"line_number" json:"line_number"`
	OfferID        string  `db:"offer_id" json:"offer_id"`
	OfferRevision  int     `db:"offer_revision" json:"offer_revision"`
	ProductID      string  `db:"product_id" json:"product_id"`
	PricingModel   string  `db:"pricing_model" json:"pricing_model"`
	Currency       string  `db:"currency" json:"currency"`
	StartDate      string  `db:"start_date" json:"start_date"`
	EndDate        string  `db:"end_date" json:"end_date"`
	// TotalContractValue is absent for pay-as-you-go: usage has none.
	TotalContractValue money.Amount `db:"total_contract_value" json:"total_contract_value"`
	PONumber           string       `db:"po_number" json:"po_number"`
	UsagePONumber      string       `db:"usage_po_number" json:"usage_po_number"`
	Status             string       `db:"status" json:"status"`
	SubscriberEmail    string       `db:"subscriber_email" json:"subscriber_email"`
	SubscriberName     string       `db:"subscriber_name" json:"subscriber_name"`
	CreatedAt          time.Time    `db:"created_at" json:"created_at"`
	UpdatedAt          time.Time    `db:"updated_at" json:"updated_at"`
	CancelledAt        *time.Time   `db:"cancelled_at" json:"cancelled_at,omitempty"`
	// UNSPSC is the product's commodity code when the agreement was
	// made, which its invoice lines carry.
	UNSPSC string `db:"unspsc" json:"-"`
}

// place puts the agreement's amounts, read bare from their columns or from
// JSON, in its currency.
func (a *Agreement) place() (err error) {
	a.TotalContractValue, err = a.TotalContractValue.In(a.Currency)
	return err
}

// UnmarshalJSON reads an agreement as the admin API writes it, its
// amounts in its currency.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	type plain Agreement
	if err := json.Unmarshal(b, (*plain)(a)); err != nil {
		return err
	}
	return a.place()
}

const agreementColumns = `id, organization_id, connection_id, order_ref, order_id, line_number, offer_id, offer_revision,
	product_id, pricing_model, currency, start_date, end_date, total_contract_value, po_number, usage_po_number,
	status, subscriber_email, subscriber_name, created_at, updated_at, cancelled_at, unspsc`

// Charge is one thing an agreement will bill: an upfront fee, an FPS
// installment, a yearly fee, or a usage dimension billed monthly.
type Charge struct {
	ID          string `db:"id" json:"id"`
	AgreementID string `db:"agreement_id" json:"agreement_id"`
	Sequence    int    `db:"sequence" json:"sequence"`
	Kind        string `db:"kind" json:"kind"`
	Fee         string `db:"fee" json:"fee"`
	DueDate     string `db:"due_date" json:"due_date,omitempty"`
	// Amount is a fixed fee's; UnitPrice is a usage dimension's rate,
	// which may have more decimals than the currency's minor unit.
	Amount    money.Amount `db:"amount" json:"amount,omitzero"`
	Currency  string       `db:"currency" json:"currency"`
	Dimension string       `db:"dimension" json:"dimension,omitempty"`
	Unit      string       `db:"unit" json:"unit,omitempty"`
	UnitPrice money.Amount `db:"unit_price" json:"unit_price,omitzero"`
	Status    string       `db:"status" json:"status"`
	InvoiceID *string      `db:"invoice_id" json:"invoice_id,omitempty"`
	CreatedAt time.Time    `db:"created_at" json:"-"`
}

// place puts the charge's amounts, read bare from their columns or from
// JSON, in its currency.
func (c *Charge) place() (err error) {
	if c.Amount, err = c.Amount.In(c.Currency); err != nil {
		return err
	}
	c.UnitPrice, err = c.UnitPrice.In(c.Currency)
	return err
}

// UnmarshalJSON reads a charge as the admin API writes it, its amounts in
// its currency.
func (c *Charge) UnmarshalJSON(b []byte) error {
	type plain Charge
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	return c.place()
}

// Charge kinds and fee types.
const (
	ChargeUpfront     = "upfront"
	ChargeInstallment = "installment"
	ChargeAnnual      = "annual"
	ChargeUsage       = "usage"
	FeeFixed          = "fixed"
	FeeUsage          = "usage"
)

// NewAgreement is what an accepted order line asks for.
type NewAgreement struct {
	OrganizationID  string
	ConnectionID    string
	OrderRef        string
	OrderID         string
	LineNumber      int
	Offer           *catalog.Offer
	Start           time.Time
	PONumber        string
	UsagePONumber   string
	SubscriberEmail string
	SubscriberName  string
	// Product is the offer's; its UNSPSC code is copied onto the
	// agreement for the invoice lines. Without it, invoice lines carry
	// no commodity code.
	Product *catalog.Product
}

// Agreements keeps agreements and their charges.
type Agreements struct {
	db  *db.DB
	POs *PurchaseOrders
	// Billing, when set, credits billed but unused prepaid time of a
	// cancelled agreement.
	Billing *Billing
	now     func() time.Time
}

// NewAgreements returns the agreement store; now is its clock.
func NewAgreements(d *db.DB, pos *PurchaseOrders, now func() time.Time) *Agreements {
	return &Agreements{db: d, POs: pos, now: now}
}

// EndDate is the last day of a term of months starting on start.
func EndDate(start time.Time, months int) string {
	if months <= 0 {
		return ""
	}
	return start.AddDate(0, months, -1).Format(time.DateOnly)
}

// Create stores one agreement; see CreateMany.
func (s *Agreements) Create(ctx context.Context, tx sqlx.ExtContext, in NewAgreement) (*Agreement, error) {
	as, err := s.CreateMany(ctx, tx, []NewAgreement{in})
	if err != nil {
		return nil, err
	}
	return as[0], nil
}

const (
	insertAgreements = `INSERT INTO agreements (` + agreementColumns + `) VALUES `
	agreementRow     = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	insertCharges    = `INSERT INTO charges (id, agreement_id, sequence, kind, fee, due_date, amount, currency,
		dimension, unit, unit_price, status, invoice_id, created_at) VALUES `
	chargeRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

// CreateMany stores agreements and the charges each will bill, inside the
// caller's transaction, and adds their marketplace line items to the
// fixed-fee POs under the PO rules (an FPS agreement's first line item is
// zero: each invoice adds its own). Pay-as-you-go, free and BYOL
// agreements add no line item: nothing of theirs is invoiced against the
// fixed-fee PO. The agreements are returned in the order they were asked
// for; each table's rows are written in one multi-row insert.
func (s *Agreements) CreateMany(ctx context.Context, tx sqlx.ExtContext, ins []NewAgreement) ([]*Agreement, error) {
	now := s.now().UTC()
	as := make([]*Agreement, 0, len(ins))
	var charges []Charge
	var poLines []MarketplaceLine
	for _, in := range ins {
		o := in.Offer
		a := &Agreement{
			ID: id.New("agr"), OrganizationID: in.OrganizationID, OrderRef: in.OrderRef, OrderID: in.OrderID,
			LineNumber: in.LineNumber, OfferID: o.ID, OfferRevision: o.Revision, ProductID: o.ProductID,
			PricingModel: string(o.PricingModel), Currency: o.Currency, StartDate: in.Start.UTC().Format(time.DateOnly),
			EndDate: EndDate(in.Start.UTC(), o.DurationMonths), PONumber: in.PONumber, UsagePONumber: in.UsagePONumber,
			Status: AgreementActive, SubscriberEmail: in.SubscriberEmail, SubscriberName: in.SubscriberName,
			CreatedAt: now, UpdatedAt: now,
		}
		if in.ConnectionID != "" {
			a.ConnectionID = &in.ConnectionID
		}
		if in.Product != nil {
			if in.Product.ID != o.ProductID {
				return nil, errs.E(errs.Internal, "offer %s is not an offer of product %s", o.ID, in.Product.ID)
			}
			a.UNSPSC = in.Product.UNSPSC
		}
		if v, ok := o.TotalContractValue(); ok {
			a.TotalContractValue = v
		}
		as = append(as, a)
		for i, c := range chargesOf(a, o, in.Start.UTC()) {
			c.ID, c.AgreementID, c.Sequence, c.Status, c.CreatedAt = id.New("chg"), a.ID, i+1, "scheduled", now
			charges = append(charges, c)
		}
		if line, ok := marketplaceLineOf(a, o); ok {
			poLines = append(poLines, line)
		}
	}
	if len(as) == 0 {
		return as, nil
	}

	args := make([]any, 0, 23*len(as))
	for _, a := range as {
		args = append(args, a.ID, a.OrganizationID, a.ConnectionID, a.OrderRef, a.OrderID, a.LineNumber, a.OfferID, a.OfferRevision,
			a.ProductID, a.PricingModel, a.Currency, a.StartDate, a.EndDate, a.TotalContractValue, a.PONumber, a.UsagePONumber,
			a.Status, a.SubscriberEmail, a.SubscriberName, a.CreatedAt, a.UpdatedAt, a.CancelledAt, a.UNSPSC)
	}
	if err := db.InsertRows(ctx, tx, insertAgreements, agreementRow, args); err != nil {
		return nil, err
	}
	args = make([]any, 0, 14*len(charges))
	for _, c := range charges {
		args = append(args, c.ID, c.AgreementID, c.Sequence, c.Kind, c.Fee, c.DueDate, c.Amount, c.Currency, c.Dimension, c.Unit, c.UnitPrice,
			c.Status, c.InvoiceID, c.CreatedAt)
	}
	if err := db.InsertRows(ctx, tx, insertCharges, chargeRow, args); err != nil {
		return nil, err
	}
	if len(poLines) > 0 {
		if _, err := s.POs.AddMarketplaceLines(ctx, tx, poLines, now); err != nil {
			return nil, err
		}
	}
	return as, nil
}

// marketplaceLineOf is the line item an agreement adds to its fixed-fee
// PO, if it adds one.
func marketplaceLineOf(a *Agreement, o *catalog.Offer) (MarketplaceLine, bool) {
	if a.PONumber == "" {
		return MarketplaceLine{}, false
	}
	var amount money.Amount
	switch o.PricingModel {
	case catalog.Upfront, catalog.Annual:
		amount = o.Price
	case catalog.FPS:
		amount, _ = money.Zero(o.Currency) // Each invoice adds its own line item.
	default:
		return MarketplaceLine{}, false
	}
	end := a.EndDate
	if end == "" {
		end = a.StartDate
	}
	return MarketplaceLine{
		OrganizationID: a.OrganizationID, PONumber: a.PONumber, AgreementID: a.ID,
		StartMonth: a.StartDate[:7], EndMonth: end[:7], Amount: amount,
		Note: o.ID + " (" + string(o.PricingModel) + ")",
	}, true
}

// chargesOf lists what an agreement will bill.
func chargesOf(a *Agreement, o *catalog.Offer, start time.Time) []Charge {
	var out []Charge
	switch o.PricingModel {
	case catalog.Upfront:
		out = append(out, Charge{Kind: ChargeUpfront, Fee: FeeFixed, DueDate: a.StartDate, Amount: o.Price, Currency: o.Currency})
	case catalog.Annual:
		years := max(1, (o.DurationMonths+11)/12)
		for y := 0; y < years; y++ {
			out = append(out, Charge{Kind: ChargeAnnual, Fee: FeeFixed, DueDate: start.AddDate(y, 0, 0).Format(time.DateOnly), Amount: o.Price, Currency: o.Currency})
		}
	case catalog.FPS:
		for _, in := range o.Schedule {
			out = append(out, Charge{Kind: ChargeInstallment, Fee: FeeFixed, DueDate: in.Due, Amount: in.Amount, Currency: o.Currency})
		}
	case catalog.PAYG:
		for _, d := range o.Dimensions {
			out = append(out, Charge{Kind: ChargeUsage, Fee: FeeUsage, Currency: o.Currency, Dimension: d.Name, Unit: d.Unit, UnitPrice: d.UnitPrice})
		}
	}
	return out
}

// Get returns an agreement, or NotFound.
func (s *Agreements) Get(ctx context.Context, q sqlx.ExtContext, agreementID string) (*Agreement, error) {
	if q == nil {
		q = s.db.R
	}
	var a Agreement
	err := sqlx.GetContext(ctx, q, &a, q.Rebind(`SELECT `+agreementColumns+` FROM agreements WHERE id = ?`), agreementID)
	if err != nil {
		return nil, db.Translate(err, "agreement %s not found", agreementID)
	}
	return &a, a.place()
}

// Filter selects agreements.
type Filter struct {
	OrganizationID string
	PONumber       string
	OrderRef       string
	Status         string
}

// List returns agreements matching f, oldest first.
func (s *Agreements) List(ctx context.Context, q sqlx.ExtContext, f Filter) ([]Agreement, error) {
	if q == nil {
		q = s.db.R
	}
	query := `SELECT ` + agreementColumns + ` FROM agreements WHERE 1 = 1`
	var args []any
	if f.OrganizationID != "" {
		query += ` AND organization_id = ?`
		args = append(args, f.OrganizationID)
	}
	if f.PONumber != "" {
		query += ` AND (po_number = ? OR usage_po_number = ?)`
		args = append(args, f.PONumber, f.PONumber)
	}
	if f.OrderRef != "" {
		query += ` AND order_ref = ?`
		args = append(args, f.OrderRef)
	}
	if f.Status != "" {
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	query += ` ORDER BY created_at, line_number, id`
	out := []Agreement{}
	if err := sqlx.SelectContext(ctx, q, &out, q.Rebind(query), args...); err != nil {
		return nil, err
	}
	return out, placeAll(out)
}

// Charges returns an agreement's charges in order.
func (s *Agreements) Charges(ctx context.Context, q sqlx.ExtContext, agreementID string) ([]Charge, error) {
	if q == nil {
		q = s.db.R
	}
	out := []Charge{}
	err := sqlx.SelectContext(ctx, q, &out, q.Rebind(`SELECT id, agreement_id, sequence, kind, fee, due_date, amount, currency,
		dimension, unit, unit_price, status, invoice_id, created_at FROM charges WHERE agreement_id = ? ORDER BY sequence`), agreementID)
	if err != nil {
		return nil, err
	}
	return out, placeAll(out)
}

// ChargeSummary is a charge with the PO number it is (or will be) invoiced
// under.
type ChargeSummary struct {
	Charge
	PONumber string `json:"po_number"`
}

// Summary lists an agreement's charges, each with its PO number: the one
// on its invoice once invoiced, else the agreement's current fixed-fee or
// usage PO number. Pay-as-you-go usage is never PO-numbered through cXML;
// its PO number decides which blanket PO its monthly invoice goes to.
func (s *Agreements) Summary(ctx context.Context, agreementID string) (*Agreement, []ChargeSummary, error) {
	a, err := s.Get(ctx, nil, agreementID)
	if err != nil {
		return nil, nil, err
	}
	charges, err := s.Charges(ctx, nil, agreementID)
	if err != nil {
		return nil, nil, err
	}
	out := make([]ChargeSummary, 0, len(charges))
	for _, c := range charges {
		po := a.PONumber
		if c.Fee == FeeUsage {
			po = a.UsagePONumber
		}
		if c.InvoiceID != nil {
			var invoicePO sql.NullString
			if err := s.db.R.GetContext(ctx, &invoicePO, s.db.Rebind(`SELECT po_number FROM invoices WHERE id = ?`), *c.InvoiceID); err == nil {
				po = invoicePO.String
			}
		}
		out = append(out, ChargeSummary{Charge: c, PONumber: po})
	}
	return a, out, nil
}

// SetPONumbers changes an agreement's fixed-fee and/or usage PO number.
// It applies to future invoices only: invoices already made keep theirs.
// A new fixed-fee PO number gets the agreement's line item.
func (s *Agreements) SetPONumbers(ctx context.Context, agreementID string, po, usagePO *string) (*Agreement, error) {
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		a, err := s.Get(ctx, tx, agreementID)
		if err != nil {
			return err
		}
		before := *a
		if a.Status != AgreementActive {
			return errs.E(errs.Conflict, "agreement %s is cancelled; its PO numbers no longer change", agreementID)
		}
		now := s.now().UTC()
		if po != nil {
			n := ""
			if *po != "" {
				if n, err = ValidatePONumber(*po); err != nil {
					return err
				}
			}
			if n != a.PONumber && n != "" {
				zero, err := money.Zero(a.Currency)
				if err != nil {
					return err
				}
				end := a.EndDate
				if end == "" {
					end = a.StartDate
				}
				if _, err := s.POs.AddMarketplaceLine(ctx, tx, MarketplaceLine{
					OrganizationID: a.OrganizationID, PONumber: n, AgreementID: a.ID,
					StartMonth: max(a.StartDate[:7], Month(now)), EndMonth: max(end[:7], Month(now)),
					Amount: zero, Note: "PO number changed for future invoices of " + a.OfferID,
				}, now); err != nil {
					return err
				}
			}
			a.PONumber = n
		}
		if usagePO != nil {
			n := ""
			if *usagePO != "" {
				if n, err = ValidatePONumber(*usagePO); err != nil {
					return err
				}
			}
			a.UsagePONumber = n
		}
		if _, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE agreements SET po_number = ?, usage_po_number = ?, updated_at = ? WHERE id = ?`),
			a.PONumber, a.UsagePONumber, now, a.ID); err != nil {
			return err
		}
		return access.Record(ctx, tx, a.OrganizationID, "agreement.update", "agreement", a.ID, access.Diff(&before, a), now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, nil, agreementID)
}

// Cancel cancels an agreement inside tx: its charges not yet invoiced are
// cancelled, and invoices that prepaid time after today get a credit memo
// for the unused days.
func (s *Agreements) Cancel(ctx context.Context, tx *sqlx.Tx, agreementID string, now time.Time) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE agreements SET status = 'cancelled', cancelled_at = ?, updated_at = ? WHERE id = ? AND status = 'active'`),
		now.UTC(), now.UTC(), agreementID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE charges SET status = 'cancelled' WHERE agreement_id = ? AND status = 'scheduled'`), agreementID); err != nil {
		return err
	}
	if s.Billing != nil {
		if _, err := s.Billing.CreditUnused(ctx, tx, agreementID, now); err != nil {
			return err
		}
	}
	return nil
}
