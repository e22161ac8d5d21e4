package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/invoicing"
)

// lowBalance: a tracked PO line item with less than this share of its
// amount left (the seeds' 75% notice), a decimal as money is.
var lowBalance = decimal.RequireFromString("0.75")

// What the home page calls attention to.
const (
	// poExpiryWindow: a PO that expires within this many days.
	poExpiryWindow = 60
	// offerExpiryWindow: a private offer that expires within this many
	// days.
	offerExpiryWindow = 30
)

type failedInvoice struct {
	ID, OrgID, PONumber, Total, Date, Error string
	Attempts                                int
}

type poAttention struct {
	OrgID, Number, Status, Why string
}

type offerAttention struct {
	OrgID, OfferID, Product, Expires string
}

type connAttention struct {
	ID, OrgID, Name string
	Errors          int
}

type homeData struct {
	Failed   []failedInvoice
	POs      []poAttention
	Offers   []offerAttention
	Conns    []connAttention
	AllClear bool
}

// Home answers GET /admin: what needs attention in the organization
// (for an operator, in the one picked, or in every organization).
func (p *Pages) Home(ec echo.Context) error {
	org, err := orgOf(ec)
	if err != nil {
		return err
	}
	ctx := ec.Request().Context()
	orgs := []string{org}
	if org == "" {
		list, err := p.Organizations.List(ctx)
		if err != nil {
			return err
		}
		orgs = orgs[:0]
		for _, o := range list {
			orgs = append(orgs, o.ID)
		}
	}
	var d homeData
	for _, o := range orgs {
		if err := p.attention(ctx, o, &d); err != nil {
			return err
		}
	}
	d.AllClear = len(d.Failed)+len(d.POs)+len(d.Offers)+len(d.Conns) == 0
	return p.render(ec, http.StatusOK, "home", view{Title: "Home", Nav: "home", Org: org, Data: d})
}

func (p *Pages) attention(ctx context.Context, org string, d *homeData) error {
	now := p.Now().UTC()
	failed, err := p.Billing.ListInvoices(ctx, org, "", "failed")
	if err != nil {
		return err
	}
	for _, inv := range failed {
		d.Failed = append(d.Failed, failedInvoice{ID: inv.ID, OrgID: org, PONumber: inv.PONumber, Total: inv.Total.Text(),
			Date: inv.InvoiceDate, Error: inv.LastError, Attempts: inv.DeliveryAttempts})
	}
	pos, err := p.POs.List(ctx, org)
	if err != nil {
		return err
	}
	for _, po := range pos {
		if po.Status == invoicing.StatusExpired || po.Status == invoicing.StatusSuspendedExpired {
			continue
		}
		if why := poConcern(po, now); why != "" {
			d.POs = append(d.POs, poAttention{OrgID: org, Number: po.ID, Status: po.Status, Why: why})
		}
	}
	listings, err := p.Catalog.Browse(ctx, org, "")
	if err != nil {
		return err
	}
	for _, l := range listings {
		for _, o := range l.Offers {
			if o.PrivateToOrganizationID != org || o.ExpiresAt == nil || !o.ExpiresAt.After(now) ||
				o.ExpiresAt.Sub(now) > offerExpiryWindow*24*time.Hour {
				continue
			}
			d.Offers = append(d.Offers, offerAttention{OrgID: org, OfferID: o.ID, Product: l.Product.Name,
				Expires: o.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")})
		}
	}
	errCount, err := exchange.Errors(ctx, p.Exchanges, org, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if len(errCount) > 0 {
		conns, err := p.Connections.List(ctx, org)
		if err != nil {
			return err
		}
		for _, c := range conns {
			if n := errCount[c.ID]; n > 0 {
				d.Conns = append(d.Conns, connAttention{ID: c.ID, OrgID: org, Name: c.Name, Errors: n})
			}
		}
	}
	return nil
}

// poConcern says why a PO needs attention, or "": a tracked line item
// below 75% of its amount, or an expiry within 60 days.
func poConcern(po *invoicing.PurchaseOrder, now time.Time) string {
	var why []string
	for _, li := range po.LineItems {
		if !li.Amount.IsSet() || !li.Balance.IsSet() {
			continue
		}
		amt, bal := li.Amount.Decimal(), li.Balance.Decimal()
		if !amt.IsPositive() {
			continue
		}
		if bal.LessThan(amt.Mul(lowBalance)) {
			pct := bal.Div(amt).Mul(decimal.NewFromInt(100)).Round(0)
			why = append(why, fmt.Sprintf("line item %s has %s %s of %s left (%s%%)", li.ID, li.Balance, li.Currency, li.Amount, pct))
		}
	}
	if end, err := time.Parse("2006-01", po.ExpirationMonth); err == nil {
		end = end.AddDate(0, 1, 0) // The end of its last month.
		if left := end.Sub(now); left > 0 && left <= poExpiryWindow*24*time.Hour {
			why = append(why, fmt.Sprintf("expires at the end of %s, in %d days", po.ExpirationMonth, int(left.Hours()/24)))
		}
	}
	return strings.Join(why, "; ")
}
