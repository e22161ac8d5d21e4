package invoicing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/money"
)

// Invoice is an invoice the billing run made.
type Invoice struct {
	ID               string       `db:"id" json:"id"`
	OrganizationID   string       `db:"organization_id" json:"organization_id"`
	ConnectionID     *string      `db:"connection_id" json:"connection_id,omitempty"`
	Kind             string       `db:"kind" json:"kind"`
	BillKey          string       `db:"bill_key" json:"-"`
	AgreementID      *string      `db:"agreement_id" json:"agreement_id,omitempty"`
	PONumber         string       `db:"po_number" json:"po_number"`
	POLineItemID     string       `db:"po_line_item_id" json:"po_line_item_id,omitempty"`
	BillingPeriod    string       `db:"billing_period" json:"billing_period"`
	PeriodStart      string       `db:"period_start" json:"period_start"`
	PeriodEnd        string       `db:"period_end" json:"period_end"`
	InvoiceDate      string       `db:"invoice_date" json:"invoice_date"`
	Total            money.Amount `db:"total" json:"total"`
	Currency         string       `db:"currency" json:"currency"`
	DeliveryStatus   string       `db:"delivery_status" json:"-"`
	DeliveryAttempts int          `db:"delivery_attempts" json:"-"`
	PayloadID        string       `db:"payload_id" json:"payload_id,omitempty"`
	LastError        string       `db:"last_error" json:"-"`
	Purpose          string       `db:"purpose" json:"purpose"`
	CreditsInvoiceID *string      `db:"credits_invoice_id" json:"credits_invoice_id,omitempty"`
	CreatedAt        time.Time    `db:"created_at" json:"created_at"`
	// BuyerStatus, BuyerStatusText and BuyerStatusAt are what the buyer's
	// system last said of the invoice (SetBuyerStatus): "" and nil until
	// it says anything.
	BuyerStatus     string     `db:"buyer_status" json:"-"`
	BuyerStatusText string     `db:"buyer_status_text" json:"-"`
	BuyerStatusAt   *time.Time `db:"buyer_status_at" json:"-"`
}

// place puts the invoice's total, read bare from its column or from JSON,
// in its currency.
func (inv *Invoice) place() (err error) {
	inv.Total, err = inv.Total.In(inv.Currency)
	return err
}

// UnmarshalJSON reads an invoice as the admin API writes it, its total in
// its currency.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	if err := json.Unmarshal(b, (*plain)(inv)); err != nil {
		return err
	}
	return inv.place()
}

const invoiceColumns = `id, organization_id, connection_id, kind, bill_key, agreement_id, po_number, po_line_item_id,
	billing_period, period_start, period_end, invoice_date, total, currency, delivery_status, delivery_attempts, created_at`

// Billing turns charges and usage into invoices.
type Billing struct {
	DB  *db.DB
	POs *PurchaseOrders
	Now func() time.Time
	// IDs and Parties make the cXML invoices of e-invoicing connections;
	// without Parties, no cXML invoice is made.
	IDs     *cxml.PayloadIDs
	Parties Parties
	// Progress, when set, is told how far a run is.
	Progress func(stage string, done, total int)
	// Jobs takes the delivery job of each cXML invoice, and Mail the
	// notices to PO contacts, in the transaction that makes them.
	Jobs Jobs
	Mail *mail.Outbox
}

// RunResult counts what a billing run made.
type RunResult struct {
	Through       string `json:"through"`
	OutOfCycle    int    `json:"out_of_cycle_invoices"`
	Monthly       int    `json:"monthly_invoices"`
	Notifications int    `json:"notifications"`
}

// Run bills everything due up to and including the day through: an
// out-of-cycle invoice for every upfront, annual and FPS charge that has
// fallen due, and monthly pay-as-you-go invoices for every month that
// ended by then. It is idempotent: each invoice has a key, and a second
// run over the same days creates nothing.
func (b *Billing) Run(ctx context.Context, through time.Time) (*RunResult, error) {
	if b.Now == nil {
		b.Now = time.Now
	}
	day := through.UTC().Format(time.DateOnly)
	res := &RunResult{Through: day}
	n, err := b.outOfCycle(ctx, day)
	if err != nil {
		return nil, err
	}
	res.OutOfCycle = n
	m, notes, err := b.monthly(ctx, through.UTC())
	if err != nil {
		return nil, err
	}
	res.Monthly, res.Notifications = m, notes
	e, err := b.expiryNotices(ctx, through.UTC())
	if err != nil {
		return nil, err
	}
	res.Notifications += e
	// A run is many transactions, one per charge or organization and
	// month; its event is written once it has ended.
	err = b.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return access.Record(ctx, tx, "", "billing.run", "billing_run", day, access.Diff(nil, res), b.Now())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

type dueCharge struct {
	AgreementID    string       `db:"agreement_id"`
	Sequence       int          `db:"sequence"`
	Kind           string       `db:"kind"`
	DueDate        string       `db:"due_date"`
	Amount         money.Amount `db:"amount"`
	Currency       string       `db:"currency"`
	OrganizationID string       `db:"organization_id"`
	ConnectionID   *string      `db:"connection_id"`
	PONumber       string       `db:"po_number"`
	OfferID        string       `db:"offer_id"`
	PricingModel   string       `db:"pricing_model"`
	StartDate      string       `db:"start_date"`
	EndDate        string       `db:"end_date"`
	LineNumber     int          `db:"line_number"`
	OrderDate      time.Time    `db:"order_date"`
	// UNSPSC is the commodity code of the agreement's product, copied
	// onto the agreement when it was made, which its invoice lines carry.
	UNSPSC string `db:"unspsc"`
}

func (b *Billing) outOfCycle(ctx context.Context, through string) (int, error) {
	var due []dueCharge
	err := b.DB.R.SelectContext(ctx, &due, b.DB.Rebind(`SELECT c.agreement_id, c.sequence, c.kind, c.due_date, c.amount, c.currency,
		a.organization_id, a.connection_id, a.po_number, a.offer_id, a.pricing_model, a.start_date, a.end_date,
		a.line_number, o.order_date, a.unspsc
		FROM charges c JOIN agreements a ON a.id = c.agreement_id JOIN orders o ON o.id = a.order_ref
		WHERE c.fee = 'fixed' AND c.status = 'scheduled' AND c.due_date <= ? AND a.status = 'active'
		ORDER BY c.due_date, c.agreement_id, c.sequence`), through)
	if err != nil {
		return 0, err
	}
	for i := range due {
		if due[i].Amount, err = due[i].Amount.In(due[i].Currency); err != nil {
			return 0, fmt.Errorf("charge %d of agreement %s: %w", due[i].Sequence, due[i].AgreementID, err)
		}
	}
	// Each connection's invoice party (e-invoicing on or off, its
	// endpoint and secret) is looked up once per run, from punchout.
	parties := map[string]*InvoiceParty{}
	partyOf := func(connID *string) (*InvoiceParty, error) {
		if connID == nil || b.Parties == nil {
			return nil, nil
		}
		if p, ok := parties[*connID]; ok {
			return p, nil
		}
		p, err := b.Parties.InvoiceParty(ctx, *connID)
		if err != nil {
			return nil, err
		}
		parties[*connID] = &p
		return &p, nil
	}
	made := 0
	for i, c := range due {
		if b.Progress != nil {
			b.Progress("out-of-cycle charges", i, len(due))
		}
		party, err := partyOf(c.ConnectionID)
		if err != nil {
			return made, err
		}
		ok, err := b.billCharge(ctx, c, party)
		if err != nil {
			return made, fmt.Errorf("charge %d of agreement %s: %w", c.Sequence, c.AgreementID, err)
		}
		if ok {
			made++
		}
	}
	if b.Progress != nil {
		b.Progress("out-of-cycle charges", len(due), len(due))
	}
	return made, nil
}

// billCharge makes the invoice of one due charge, carrying the
// agreement's fixed-fee PO unless that PO is suspended or expired on the
// due date; an FPS installment also adds its line item to the PO.
func (b *Billing) billCharge(ctx context.Context, c dueCharge, party *InvoiceParty) (bool, error) {
	made := false
	err := b.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		now := b.Now().UTC()
		inv := &Invoice{
			ID: id.New("inv"), OrganizationID: c.OrganizationID, ConnectionID: c.ConnectionID, Kind: string(OutOfCycle),
			BillKey: fmt.Sprintf("charge:%s:%d", c.AgreementID, c.Sequence), AgreementID: &c.AgreementID,
			BillingPeriod: c.DueDate[:7], PeriodStart: c.DueDate, PeriodEnd: c.EndDate, InvoiceDate: c.DueDate,
			Total: c.Amount, Currency: c.Currency, DeliveryStatus: "not_applicable", CreatedAt: now,
		}
		if c.Kind == ChargeUpfront {
			inv.PeriodStart = c.StartDate
		}
		// An installment or a yearly fee pays for the time until the next
		// one is due.
		if c.Kind == ChargeInstallment || c.Kind == ChargeAnnual {
			var next string
			err := sqlx.GetContext(ctx, tx, &next, tx.Rebind(`SELECT due_date FROM charges WHERE agreement_id = ? AND sequence = ?`), c.AgreementID, c.Sequence+1)
			if err == nil && next != "" {
				inv.PeriodEnd = prevDay(next)
			} else if err != nil && !db.IsNoRows(err) {
				return err
			}
		}
		if inv.PeriodEnd == "" {
			inv.PeriodEnd = inv.PeriodStart
		}

		if c.PONumber != "" {
			var r poRow
			err := sqlx.GetContext(ctx, tx, &r, tx.Rebind(`SELECT `+poColumns+` FROM purchase_orders WHERE organization_id = ? AND po_number = ?`), c.OrganizationID, c.PONumber)
			switch {
			case err != nil && !db.IsNoRows(err):
				return err
			case err == nil && StatusAt(r.AdminStatus, r.ExpirationMonth, c.DueDate[:7]) == StatusActive:
				inv.PONumber = c.PONumber
			}
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoices (`+invoiceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (bill_key) DO NOTHING`),
			inv.ID, inv.OrganizationID, inv.ConnectionID, inv.Kind, inv.BillKey, inv.AgreementID, inv.PONumber, inv.POLineItemID,
			inv.BillingPeriod, inv.PeriodStart, inv.PeriodEnd, inv.InvoiceDate, inv.Total, inv.Currency, inv.DeliveryStatus, inv.DeliveryAttempts, inv.CreatedAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // Billed by an earlier run.
		}
		made = true
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoice_lines (invoice_id, line_number, agreement_id, description, quantity, unit_price, amount)
			VALUES (?, 1, ?, ?, '1', ?, ?)`), inv.ID, c.AgreementID, chargeDescription(c), c.Amount, c.Amount); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE charges SET status = 'invoiced', invoice_id = ? WHERE agreement_id = ? AND sequence = ?`),
			inv.ID, c.AgreementID, c.Sequence); err != nil {
			return err
		}
		// Connections that accept cXML invoices get this one as an
		// InvoiceDetailRequest, fixed now so every retry sends the same
		// bytes. Without a PO it cannot be PO-backed, so it is not sent.
		if party != nil && party.Enabled {
			status, doc, payloadID, note := "not_applicable", []byte(nil), "", "no PO on the invoice: not sent as cXML; reactivate the PO and regenerate"
			if inv.PONumber != "" {
				var err error
				if doc, payloadID, err = buildInvoiceDetail(b.IDs, *party, inv, c, c.OrderDate, c.LineNumber, now); err != nil {
					return err
				}
				status, note = "pending", ""
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE invoices SET delivery_status = ?, document = ?, payload_id = ?, last_error = ? WHERE id = ?`),
				status, doc, payloadID, note, inv.ID); err != nil {
				return err
			}
			if status == "pending" {
				if err := b.Jobs.Insert(ctx, tx, DeliverInvoice{InvoiceID: inv.ID}); err != nil {
					return err
				}
			}
		}
		if c.Kind == ChargeInstallment && inv.PONumber != "" {
			end := c.EndDate
			if end == "" {
				end = c.DueDate
			}
			if _, err := b.POs.AddMarketplaceLines(ctx, tx, []MarketplaceLine{{
				OrganizationID: c.OrganizationID, PONumber: inv.PONumber, AgreementID: c.AgreementID,
				StartMonth: c.DueDate[:7], EndMonth: end[:7], Amount: c.Amount,
				Note: fmt.Sprintf("%s installment %d, invoice %s", c.OfferID, c.Sequence, inv.ID),
			}}, now); err != nil {
				return err
			}
		}
		return nil
	})
	return made, err
}

func chargeDescription(c dueCharge) string {
	switch c.Kind {
	case ChargeInstallment:
		return fmt.Sprintf("%s: payment %d of the flexible payment schedule, due %s", c.OfferID, c.Sequence, c.DueDate)
	case ChargeAnnual:
		return fmt.Sprintf("%s: annual fee from %s", c.OfferID, c.DueDate)
	}
	return fmt.Sprintf("%s: upfront fee, %s to %s", c.OfferID, c.StartDate, c.EndDate)
}

// usageKey groups metered usage for one invoice line.
type usageKey struct{ agreement, dimension string }

type usageAgreement struct {
	ID             string  `db:"id"`
	OrganizationID string  `db:"organization_id"`
	ConnectionID   *string `db:"connection_id"`
	UsagePONumber  string  `db:"usage_po_number"`
	Currency       string  `db:"currency"`
	OfferID        string  `db:"offer_id"`
}

// monthly bills pay-as-you-go usage: per organization and month, one
// invoice per distinct PO (the agreement's usage PO where set, else the
// best matching blanket PO, else none). Usage records are read as a
// stream, ordered, so memory does not grow with their number. Usage is
// never PO-numbered through cXML: these invoices are kept and listed only.
func (b *Billing) monthly(ctx context.Context, through time.Time) (int, int, error) {
	// The last month that has ended by the end of the day `through`.
	last := through.AddDate(0, -1, 0).Format("2006-01")
	if through.AddDate(0, 0, 1).Day() == 1 {
		last = through.Format("2006-01")
	}
	var months []string
	if err := b.DB.R.SelectContext(ctx, &months, b.DB.Rebind(`SELECT DISTINCT month FROM usage_records WHERE month <= ? ORDER BY month`), last); err != nil {
		return 0, 0, err
	}
	made, notes := 0, 0
	for _, month := range months {
		m, n, err := b.billMonth(ctx, month)
		if err != nil {
			return made, notes, fmt.Errorf("usage of %s: %w", month, err)
		}
		made += m
		notes += n
	}
	return made, notes, nil
}

func (b *Billing) billMonth(ctx context.Context, month string) (int, int, error) {
	rows, err := b.DB.R.QueryxContext(ctx, b.DB.Rebind(`SELECT u.agreement_id, u.dimension, u.quantity FROM usage_records u
		WHERE u.month = ? ORDER BY u.agreement_id, u.dimension`), month)
	if err != nil {
		return 0, 0, err
	}
	sums := map[usageKey]decimal.Decimal{}
	for rows.Next() {
		var agreement, dim, qty string
		if err := rows.Scan(&agreement, &dim, &qty); err != nil {
			rows.Close()
			return 0, 0, err
		}
		q, err := decimal.NewFromString(qty)
		if err != nil {
			continue
		}
		k := usageKey{agreement, dim}
		sums[k] = sums[k].Add(q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(sums) == 0 {
		return 0, 0, nil
	}
	// Price each agreement's usage and group by organization.
	agreementIDs := map[string]bool{}
	for k := range sums {
		agreementIDs[k.agreement] = true
	}
	type orgBill struct {
		lines map[poKey][]invoiceLine
	}
	byOrg := map[string]*orgBill{}
	orgConn := map[string]*string{}
	var ids []string
	for a := range agreementIDs {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	prices := map[usageKey]money.Amount{}
	agreements := map[string]usageAgreement{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		q, args, err := sqlx.In(`SELECT id, organization_id, connection_id, usage_po_number, currency, offer_id FROM agreements WHERE id IN (?)`, chunk)
		if err != nil {
			return 0, 0, err
		}
		var as []usageAgreement
		if err := b.DB.R.SelectContext(ctx, &as, b.DB.Rebind(q), args...); err != nil {
			return 0, 0, err
		}
		for _, a := range as {
			agreements[a.ID] = a
		}
		q, args, err = sqlx.In(`SELECT agreement_id, dimension, unit_price FROM charges WHERE fee = 'usage' AND agreement_id IN (?)`, chunk)
		if err != nil {
			return 0, 0, err
		}
		var ps []struct {
			AgreementID string       `db:"agreement_id"`
			Dimension   string       `db:"dimension"`
			UnitPrice   money.Amount `db:"unit_price"`
		}
		if err := b.DB.R.SelectContext(ctx, &ps, b.DB.Rebind(q), args...); err != nil {
			return 0, 0, err
		}
		for _, p := range ps {
			prices[usageKey{p.AgreementID, p.Dimension}] = p.UnitPrice
		}
	}
	keys := make([]usageKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].agreement != keys[j].agreement {
			return keys[i].agreement < keys[j].agreement
		}
		return keys[i].dimension < keys[j].dimension
	})
	for _, k := range keys {
		a, ok := agreements[k.agreement]
		if !ok {
			continue
		}
		rate, ok := prices[k]
		if !ok {
			continue
		}
		price, err := rate.In(a.Currency)
		if err != nil {
			return 0, 0, fmt.Errorf("agreement %s, dimension %s: %w", a.ID, k.dimension, err)
		}
		ob := byOrg[a.OrganizationID]
		if ob == nil {
			ob = &orgBill{lines: map[poKey][]invoiceLine{}}
			byOrg[a.OrganizationID] = ob
			orgConn[a.OrganizationID] = a.ConnectionID
		}
		qty := sums[k]
		amount := price.Mul(qty).Round()
		key := poKey{currency: a.Currency, po: a.UsagePONumber}
		ob.lines[key] = append(ob.lines[key], invoiceLine{agreement: a.ID, description: fmt.Sprintf("%s: %s, %s", a.OfferID, k.dimension, month),
			quantity: qty, unitPrice: price, amount: amount})
	}
	orgs := make([]string, 0, len(byOrg))
	for o := range byOrg {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	made, notes := 0, 0
	for i, org := range orgs {
		if b.Progress != nil {
			b.Progress("usage "+month, i, len(orgs))
		}
		m, n, err := b.billOrgMonth(ctx, org, orgConn[org], month, byOrg[org].lines)
		if err != nil {
			return made, notes, err
		}
		made += m
		notes += n
	}
	return made, notes, nil
}

type invoiceLine struct {
	agreement   string
	description string
	quantity    decimal.Decimal
	unitPrice   money.Amount
	amount      money.Amount
}

// sumLines totals invoice lines of one currency.
func sumLines(currency string, lines []invoiceLine) (money.Amount, error) {
	amounts := make([]money.Amount, len(lines))
	for i, l := range lines {
		amounts[i] = l.amount
	}
	return money.Sum(currency, amounts...)
}

// billOrgMonth makes an organization's usage invoices of a month, one per
// distinct PO, inside one transaction.
// poKey groups an organization's usage lines for one invoice: a currency
// and a PO number (the usage PO before matching, the invoice's after).
type poKey struct{ currency, po string }

func (b *Billing) billOrgMonth(ctx context.Context, org string, conn *string, month string, byUsagePO map[poKey][]invoiceLine) (int, int, error) {
	made, notes := 0, 0
	err := b.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		now := b.Now().UTC()
		candidates, err := b.matchCandidates(ctx, tx, org)
		if err != nil {
			return err
		}
		// Resolve each group's PO: the usage PO where set, else matching.
		type group struct {
			lineItem string
			lines    []invoiceLine
		}
		groups := map[poKey]*group{}
		var order []poKey
		keys := make([]poKey, 0, len(byUsagePO))
		for k := range byUsagePO {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].currency < keys[j].currency || keys[i].currency == keys[j].currency && keys[i].po < keys[j].po
		})
		for _, k := range keys {
			lines := byUsagePO[k]
			currency, usagePO := k.currency, k.po
			total, err := sumLines(currency, lines)
			if err != nil {
				return err
			}
			po, li := usagePO, ""
			if po != "" {
				if c := findCandidate(candidates, po); c == nil || c.AdminStatus == StatusSuspended || c.ExpirationMonth < month {
					po = "" // A suspended or expired usage PO is not carried.
				}
			}
			if po == "" {
				if m, ok := Match(MatchInput{OrganizationID: org, Period: month, Kind: Monthly, Amount: total}, candidates); ok {
					po, li = m.PONumber, m.LineItemID
				}
			}
			gk := poKey{currency: currency, po: po}
			g := groups[gk]
			if g == nil {
				g = &group{lineItem: li}
				groups[gk] = g
				order = append(order, gk)
			}
			g.lines = append(g.lines, lines...)
		}
		first, last := month+"-01", lastDay(month)
		for _, gk := range order {
			g := groups[gk]
			total, err := sumLines(gk.currency, g.lines)
			if err != nil {
				return err
			}
			inv := &Invoice{
				ID: id.New("inv"), OrganizationID: org, ConnectionID: conn, Kind: string(Monthly),
				BillKey: fmt.Sprintf("monthly:%s:%s:%s:%s", org, month, gk.currency, gk.po), PONumber: gk.po, POLineItemID: g.lineItem,
				BillingPeriod: month, PeriodStart: first, PeriodEnd: last, InvoiceDate: nextDay(last),
				Total: total, Currency: gk.currency, DeliveryStatus: "not_applicable", CreatedAt: now,
			}
			res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoices (`+invoiceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (bill_key) DO NOTHING`),
				inv.ID, inv.OrganizationID, inv.ConnectionID, inv.Kind, inv.BillKey, inv.AgreementID, inv.PONumber, inv.POLineItemID,
				inv.BillingPeriod, inv.PeriodStart, inv.PeriodEnd, inv.InvoiceDate, inv.Total, inv.Currency, inv.DeliveryStatus, inv.DeliveryAttempts, inv.CreatedAt)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			made++
			for i, l := range g.lines {
				if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO invoice_lines (invoice_id, line_number, agreement_id, description, quantity, unit_price, amount)
					VALUES (?, ?, ?, ?, ?, ?, ?)`), inv.ID, i+1, l.agreement, l.description, l.quantity.String(), l.unitPrice, l.amount); err != nil {
					return err
				}
			}
			if g.lineItem != "" {
				n, err := b.drawDown(ctx, tx, org, gk.po, g.lineItem, total, now)
				if err != nil {
					return err
				}
				notes += n
			}
		}
		return nil
	})
	return made, notes, err
}

func findCandidate(cs []MatchPO, number string) *MatchPO {
	for i := range cs {
		if cs[i].Number == number {
			return &cs[i]
		}
	}
	return nil
}

func lastDay(month string) string {
	t, _ := time.Parse("2006-01", month)
	return t.AddDate(0, 1, -1).Format(time.DateOnly)
}

func prevDay(day string) string {
	t, _ := time.Parse(time.DateOnly, day)
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

func nextDay(day string) string {
	t, _ := time.Parse(time.DateOnly, day)
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}

// matchCandidates loads an organization's POs with their line items.
func (b *Billing) matchCandidates(ctx context.Context, tx sqlx.ExtContext, org string) ([]MatchPO, error) {
	var pos []poRow
	if err := sqlx.SelectContext(ctx, tx, &pos, tx.Rebind(`SELECT `+poColumns+` FROM purchase_orders WHERE organization_id = ? ORDER BY po_number`), org); err != nil {
		return nil, err
	}
	if len(pos) == 0 {
		return nil, nil
	}
	var lines []lineRow
	if err := sqlx.SelectContext(ctx, tx, &lines, tx.Rebind(`SELECT `+lineColumns+` FROM po_line_items WHERE organization_id = ? ORDER BY po_number, id`), org); err != nil {
		return nil, err
	}
	byPO := map[string][]LineItem{}
	for _, l := range lines {
		li, err := l.lineItem()
		if err != nil {
			return nil, err
		}
		byPO[l.PONumber] = append(byPO[l.PONumber], li)
	}
	out := make([]MatchPO, 0, len(pos))
	for _, p := range pos {
		out = append(out, MatchPO{Number: p.PONumber, BillFrom: p.BillFrom, AdminStatus: p.AdminStatus, EffectiveMonth: p.EffectiveMonth,
			ExpirationMonth: p.ExpirationMonth, Lines: byPO[p.PONumber]})
	}
	return out, nil
}

// drawDown lowers a tracked line item's balance by an invoice, and emails
// the PO's contacts once when the balance falls below 75% of the amount.
// Marketplace line items are never tracked. A line item entered without a
// currency takes the invoice's, the first time one draws it down: its
// balance is money in that currency from then on (and Match gives it no
// invoice in another).
func (b *Billing) drawDown(ctx context.Context, tx *sqlx.Tx, org, po, lineItem string, amount money.Amount, now time.Time) (int, error) {
	var l lineRow
	err := sqlx.GetContext(ctx, tx, &l, tx.Rebind(`SELECT `+lineColumns+` FROM po_line_items WHERE organization_id = ? AND po_number = ? AND id = ?`), org, po, lineItem)
	if err != nil {
		if db.IsNoRows(err) {
			return 0, nil
		}
		return 0, err
	}
	li, err := l.lineItem()
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "PO %s line item %s has an unreadable balance", po, lineItem)
	}
	if !li.Balance.IsSet() || li.Type.Marketplace() {
		return 0, nil
	}
	total, err1 := li.Amount.In(amount.Currency())
	balance, err2 := li.Balance.In(amount.Currency())
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	newBalance, err := balance.Sub(amount)
	if err != nil {
		return 0, err
	}
	// The balance keeps the line item's currency's decimals (JPY 0, BHD 3).
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE po_line_items SET amount = ?, balance = ?, currency = ? WHERE organization_id = ? AND po_number = ? AND id = ?`),
		total, newBalance, newBalance.Currency(), org, po, lineItem); err != nil {
		return 0, err
	}
	threshold := total.Mul(decimal.RequireFromString("0.75"))
	below := func(a money.Amount) bool { c, _ := a.Cmp(threshold); return c < 0 }
	if !below(newBalance) || below(balance) {
		return 0, nil
	}
	return b.notifyContacts(ctx, tx, org, po, "balance:"+lineItem, balanceTemplate, func(contact string) any {
		return balanceNotice{Contact: contact, PONumber: po, Balance: newBalance.Text(), Total: total.Text(), Invoice: amount.Text()}
	}, now)
}

// notifyContacts emails every contact of a PO, once per kind of notice,
// rendering t with what notice returns for the contact's name.
// A PO without contacts (as one created from an order) gets none.
func (b *Billing) notifyContacts(ctx context.Context, tx *sqlx.Tx, org, po, kind string, t *mail.Template, notice func(contact string) any, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO po_notifications (organization_id, po_number, kind, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (organization_id, po_number, kind) DO NOTHING`), org, po, kind, now)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, nil
	}
	var contacts []Contact
	if err := sqlx.SelectContext(ctx, tx, &contacts, tx.Rebind(`SELECT name, email FROM po_contacts WHERE organization_id = ? AND po_number = ? ORDER BY position`), org, po); err != nil {
		return 0, err
	}
	for _, c := range contacts {
		subject, body, err := t.Render(notice(c.Name))
		if err != nil {
			return 0, err
		}
		if _, err := b.Mail.Enqueue(ctx, tx, org, c.Email, subject, body, now); err != nil && !errs.Is(err, errs.Invalid) {
			return 0, err
		}
	}
	return len(contacts), nil
}

// expiryNotices emails the contacts of active POs that expire within 30
// days of through, once per PO and expiration month.
func (b *Billing) expiryNotices(ctx context.Context, through time.Time) (int, error) {
	horizon := through.AddDate(0, 0, 30)
	var pos []poRow
	if err := b.DB.R.SelectContext(ctx, &pos, b.DB.Rebind(`SELECT `+poColumns+` FROM purchase_orders
		WHERE admin_status = 'active' AND expiration_month >= ? AND expiration_month <= ?`), Month(through), Month(horizon)); err != nil {
		return 0, err
	}
	notes := 0
	for _, p := range pos {
		end, _ := time.Parse(time.DateOnly, lastDay(p.ExpirationMonth))
		if end.After(horizon) || end.Before(through) {
			continue
		}
		err := b.DB.Transact(ctx, func(tx *sqlx.Tx) error {
			n, err := b.notifyContacts(ctx, tx, p.OrganizationID, p.PONumber, "expiry:"+p.ExpirationMonth, expiryTemplate, func(contact string) any {
				return expiryNotice{Contact: contact, PONumber: p.PONumber, Expires: end.Format(time.DateOnly)}
			}, b.Now().UTC())
			notes += n
			return err
		})
		if err != nil {
			return notes, err
		}
	}
	return notes, nil
}

// FailedInvoices counts the invoices whose delivery failed.
func (b *Billing) FailedInvoices(ctx context.Context) (int, error) {
	var n int
	err := b.DB.R.GetContext(ctx, &n, `SELECT COUNT(*) FROM invoices WHERE delivery_status = 'failed'`)
	return n, err
}

// InvoiceOrganization returns the organization an invoice belongs to
// (NotFound when there is no such invoice).
func (b *Billing) InvoiceOrganization(ctx context.Context, invoiceID string) (string, error) {
	var org string
	err := b.DB.R.GetContext(ctx, &org, b.DB.Rebind(`SELECT organization_id FROM invoices WHERE id = ?`), invoiceID)
	if err != nil {
		return "", db.Translate(err, "invoice %s not found", invoiceID)
	}
	return org, nil
}

// ListInvoices returns invoices of an organization and/or agreement.
func (b *Billing) ListInvoices(ctx context.Context, orgID, agreementID, deliveryStatus string) ([]Invoice, error) {
	q := `SELECT ` + invoiceColumns + `, payload_id, last_error, purpose, credits_invoice_id, buyer_status, buyer_status_text, buyer_status_at
		FROM invoices WHERE 1 = 1`
	var args []any
	switch deliveryStatus {
	case "":
	case "pending", "delivered", "failed", "not_applicable":
		q += ` AND delivery_status = ?`
		args = append(args, deliveryStatus)
	default:
		return nil, errs.E(errs.Invalid, "delivery_status must be pending, delivered, failed or not_applicable")
	}
	if orgID != "" {
		q += ` AND organization_id = ?`
		args = append(args, orgID)
	}
	if agreementID != "" {
		q += ` AND (agreement_id = ? OR id IN (SELECT invoice_id FROM invoice_lines WHERE agreement_id = ?))`
		args = append(args, agreementID, agreementID)
	}
	q += ` ORDER BY invoice_date, id`
	out := []Invoice{}
	if err := b.DB.R.SelectContext(ctx, &out, b.DB.Rebind(q), args...); err != nil {
		return nil, err
	}
	return out, placeAll(out)
}
