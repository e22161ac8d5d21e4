package punchout

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/organization"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates holds one template set per page: the shared layout and
// the page's own "content".
var pageTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"catalog", "product", "cart", "message"} {
		m[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	m["checkout"] = template.Must(template.ParseFS(templateFS, "templates/checkout.html"))
	return m
}()

// Pages serves the punchout pages a buyer's user browses: the start page
// (the catalog), product pages, the cart and the checkout page that posts
// the cart back to the procurement system. A session is found only by
// the token in the URL, never by a cookie, so the pages work inside the
// buyer's iframe and two punchouts in one browser stay apart.
//
// The pages change nothing themselves: carts change through Carts, and
// auto-approved subscriptions through AutoApprovals, each in transactions
// of its own.
type Pages struct {
	Sessions    *Sessions
	Connections *Connections
	Catalog     *catalog.Store
	Orgs        *organization.Store
	// Carts shows, changes and returns the session's cart.
	Carts *Carts
	// AutoApprovals makes the agreements of auto-approved offers.
	AutoApprovals *AutoApprovals
	BaseURL       string
	Now           func() time.Time
}

// selectedParam is the query parameter of a StartPage URL that names a
// Level-2 punchout's selected item the catalog does not hold (see
// Setup.selectedPage), for the catalog's note.
const selectedParam = "selected"

// StartPageURL is the URL a PunchOutSetupResponse sends the user to.
func StartPageURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/punchout/s/" + token
}

// pageContext is what every page knows.
type pageContext struct {
	Title      string
	Base       string
	OrgName    string
	SystemName string
	UserName   string
	CartCount  int
	Flash      string
	Error      string
	ReadOnly   bool
}

type offerView struct {
	ID, ProductName, Model, Price, Terms, Expires, Why string
	Private                                            bool
	Action, ActionLabel, FormAction                    string
}

type productView struct {
	ID, Name, Vendor, Type, UNSPSC, Description string
	Offers                                      []offerView
}

// session loads the session of the URL's token with its connection and
// organization, and sets the headers every punchout page carries. A
// session that has ended (its cart was returned) is an *endedError, which
// renderError shows as the page saying where the cart went: every page of
// the token shows it, and every change is refused with it.
func (p *Pages) session(c echo.Context) (*Session, *Connection, *pageContext, error) {
	token := c.Param("token")
	h := c.Response().Header()
	// The token is in the URL: never leak it in a Referer, never cache.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	sess, err := p.Sessions.ByToken(c.Request().Context(), token)
	if err != nil {
		return nil, nil, nil, err
	}
	conn, err := p.Connections.Get(c.Request().Context(), sess.ConnectionID)
	if err != nil {
		return nil, nil, nil, err
	}
	if conn.Disabled {
		return nil, nil, nil, errs.E(errs.Forbidden, "this procurement connection has been disabled; contact your administrator")
	}
	// The buyer's procurement system may show these pages in a frame, and
	// the cart page's form leads to the checkout page, which posts to it.
	src := formActionSource(sess.BrowserFormPostURL)
	if src != "" {
		src = " " + src
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"+src+
		"; frame-ancestors 'self'"+src+"; base-uri 'none'")
	org, err := p.Orgs.Get(c.Request().Context(), sess.OrganizationID)
	if err != nil {
		return nil, nil, nil, err
	}
	pc := &pageContext{
		Base:       StartPageURL(p.BaseURL, token),
		OrgName:    org.Name,
		SystemName: conn.SystemName(),
		UserName:   sess.User().DisplayName(),
		ReadOnly:   sess.ReadOnly(),
	}
	if sess.Ended() {
		return nil, nil, nil, &endedError{sess: sess, conn: conn, pc: pc}
	}
	items, err := p.Sessions.Items(c.Request().Context(), nil, sess.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	pc.CartCount = len(items)
	return sess, conn, pc, nil
}

// formActionSource is the CSP source of the origin a session's cart is
// posted to, scheme://host[:port] rebuilt from its checked parts (see
// parseOrigin), or "" when rawURL has no such origin: a hostile URL then
// adds nothing to the header, and CheckFormPost refuses the checkout.
func formActionSource(rawURL string) string {
	o, ok := parseOrigin(rawURL)
	if !ok {
		return ""
	}
	return o.String()
}

// endedError is ErrCartReturned for one session, with what the page
// saying where its cart went names.
type endedError struct {
	sess *Session
	conn *Connection
	pc   *pageContext
}

func (e *endedError) Error() string { return ErrCartReturned.Error() }
func (e *endedError) Unwrap() error { return ErrCartReturned }

// ended turns ErrCartReturned, as a transaction that lost a race with a
// checkout returns it, into the page of sess.
func ended(err error, sess *Session, conn *Connection, pc *pageContext) error {
	if errors.Is(err, ErrCartReturned) {
		return &endedError{sess: sess, conn: conn, pc: pc}
	}
	return err
}

// messageView is what the message page shows.
type messageView struct {
	*pageContext
	Heading, Message, Next string
}

// renderEnded shows where an ended session's cart went and how the buyer
// changes it now. Its status is 409 Conflict, as for an expired session:
// the token is known and the session still exists (the pages are not
// gone, 410), but its state rules out what was asked.
func (p *Pages) renderEnded(c echo.Context, e *endedError) error {
	system := e.conn.SystemName()
	pc := *e.pc
	pc.Title, pc.Base, pc.ReadOnly = "Cart returned", "", false
	next := "To change the cart, open the requisition in " + system + " and edit the cart there: that punches out again with its items. " +
		"To shop for something else, punch out to this catalog again from " + system + "."
	if e.sess.Operation == OpEdit {
		next = "This session reopened a cart from a requisition. To change it again, open the requisition in " + system +
			" and edit the cart again: that punches out again with its items."
	}
	return p.render(c, http.StatusConflict, "message", messageView{&pc, "Your cart went back to " + system,
		"This punchout session ended when its cart was returned to " + system + ", so nothing can be added, removed or returned again here.", next})
}

func (p *Pages) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	root := "layout"
	if name == "checkout" {
		root = "checkout"
	}
	if err := pageTemplates[name].ExecuteTemplate(&buf, root, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderError shows a refusal on a page the user can act on.
func (p *Pages) renderError(c echo.Context, err error) error {
	var e *endedError
	if errors.As(err, &e) {
		return p.renderEnded(c, e)
	}
	status := errs.HTTPStatus(err)
	if status >= 500 {
		return err
	}
	pc := &pageContext{Title: "Punchout", SystemName: "your procurement system"}
	heading := "Something needs your attention"
	if errors.Is(err, ErrSessionExpired) || errs.Is(err, errs.NotFound) && strings.Contains(errs.MessageOf(err), "punchout link") {
		heading = "This punchout session is no longer open"
	}
	return p.render(c, status, "message", messageView{pageContext: pc, Heading: heading, Message: errs.MessageOf(err)})
}

func (p *Pages) offerViews(pc *pageContext, conn *Connection, prod *catalog.Product, offers []catalog.Offer) []offerView {
	now := p.Now()
	var out []offerView
	for i := range offers {
		o := &offers[i]
		if o.Expired(now) {
			continue
		}
		v := offerView{
			ID: o.ID, ProductName: prod.Name, Model: o.PricingModel.Label(), Price: PriceText(conn, o),
			Terms: TermsText(conn, o), Private: o.PrivateToOrganizationID != "", FormAction: pc.Base + "/cart",
		}
		if o.ExpiresAt != nil {
			v.Expires = o.ExpiresAt.UTC().Format("2 January 2006")
		}
		if ok, why := catalog.Requestable(prod, o); !ok {
			v.Why = why
		} else if pc.ReadOnly {
			v.Why = "This cart is open for viewing only."
		} else if conn.AutoApproveFreeBYOL && catalog.AutoApprovable(o) {
			v.Action, v.ActionLabel = "subscribe", "Subscribe"
		} else {
			v.Action, v.ActionLabel = "request-approval", "Request approval"
		}
		out = append(out, v)
	}
	return out
}

func productViewOf(l *catalog.Listing, offers []offerView) productView {
	return productView{
		ID: l.Product.ID, Name: l.Product.Name, Vendor: l.Product.Vendor, Type: l.Product.Type.Label(),
		UNSPSC: l.Product.UNSPSC, Description: l.Product.Description, Offers: offers,
	}
}

// StartPage answers GET /punchout/s/{token}: the catalog.
func (p *Pages) StartPage(c echo.Context) error {
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	list, err := p.Catalog.Browse(c.Request().Context(), sess.OrganizationID, q)
	if err != nil {
		return err
	}
	products := make([]productView, 0, len(list))
	for i := range list {
		products = append(products, productViewOf(&list[i], p.offerViews(pc, conn, &list[i].Product, list[i].Offers)))
	}
	pc.Title = "Catalog"
	if c.QueryParam("added") != "" {
		pc.Flash = "Added to your cart."
	}
	if item := strings.TrimSpace(c.QueryParam(selectedParam)); item != "" {
		pc.Flash = "The item you chose in " + pc.SystemName + " (" + web.Cut(item, 100) + ") is not in this catalog, or no longer: here is the whole catalog to choose from."
	}
	return p.render(c, http.StatusOK, "catalog", struct {
		*pageContext
		Query    string
		Products []productView
	}{pc, q, products})
}

// Product answers GET /punchout/s/{token}/products/{id}.
func (p *Pages) Product(c echo.Context) error {
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	l, err := p.Catalog.Product(c.Request().Context(), sess.OrganizationID, c.Param("id"))
	if err != nil {
		return p.renderError(c, err)
	}
	pc.Title = l.Product.Name
	pv := productViewOf(l, p.offerViews(pc, conn, &l.Product, l.Offers))
	return p.render(c, http.StatusOK, "product", struct {
		*pageContext
		Product productView
	}{pc, pv})
}

// AddToCart answers POST /punchout/s/{token}/cart (offer_id, action): it
// puts the offer in the cart and shows the cart.
func (p *Pages) AddToCart(c echo.Context) error {
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	offerID := c.FormValue("offer_id")
	switch c.FormValue("action") {
	case "request-approval", "":
	case "subscribe":
		return p.subscribe(c, sess, conn, pc, offerID)
	default:
		return p.renderError(c, errs.E(errs.Invalid, "unknown action %q", c.FormValue("action")))
	}
	if err := p.Carts.Add(c.Request().Context(), sess, offerID); err != nil {
		return p.renderError(c, ended(err, sess, conn, pc))
	}
	return c.Redirect(http.StatusSeeOther, StartPageURL(p.BaseURL, c.Param("token"))+"/cart?added="+url.QueryEscape(offerID))
}

// RemoveFromCart answers POST /punchout/s/{token}/cart/remove.
func (p *Pages) RemoveFromCart(c echo.Context) error {
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	if err := p.Carts.Remove(c.Request().Context(), sess, c.FormValue("offer_id")); err != nil {
		return p.renderError(c, ended(err, sess, conn, pc))
	}
	return c.Redirect(http.StatusSeeOther, StartPageURL(p.BaseURL, c.Param("token"))+"/cart")
}

// subscribe answers the Subscribe button: the agreement of a free or BYOL
// offer, made at once where the connection auto-approves them.
func (p *Pages) subscribe(c echo.Context, sess *Session, conn *Connection, pc *pageContext, offerID string) error {
	prod, o, a, err := p.AutoApprovals.Subscribe(c.Request().Context(), sess, conn, offerID)
	if err != nil {
		return p.renderError(c, ended(err, sess, conn, pc))
	}
	pc.Title = "Subscribed"
	return p.render(c, http.StatusOK, "message", messageView{pageContext: pc, Heading: "You are subscribed to " + prod.Name,
		Message: "Your organization approves " + o.PricingModel.Label() + " offers automatically, so your agreement " + a.ID +
			" is active now, without a request in " + conn.SystemName() + ". A confirmation has been sent to " + sess.User().Email + "."})
}

type lineView struct {
	OfferID, ProductName, Vendor, Model, Terms, Explain, Price, Stale string
}

// Cart answers GET /punchout/s/{token}/cart.
func (p *Pages) Cart(c echo.Context) error {
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	cart, err := p.Carts.Get(c.Request().Context(), conn, sess)
	if err != nil {
		return err
	}
	lines := make([]lineView, 0, len(cart.Lines))
	for _, l := range cart.Lines {
		lv := lineView{
			OfferID: l.Offer.ID, ProductName: l.Product.Name, Vendor: l.Product.Vendor, Model: l.Offer.PricingModel.Label(),
			Terms: TermsText(conn, &l.Offer), Price: moneyText(l.UnitPrice), Stale: l.Stale,
		}
		switch l.Offer.PricingModel {
		case catalog.PAYG:
			lv.Explain = "Goes to " + conn.SystemName() + " at a blanket value; you are billed monthly for actual usage."
		case catalog.FPS:
			lv.Explain = "One item at the total contract value; payments follow the schedule."
		}
		lines = append(lines, lv)
	}
	pc.Title = "Cart"
	if c.QueryParam("added") != "" {
		pc.Flash = "Added to your cart."
	}
	returnable := true
	if err := conn.CheckFormPost(sess.BrowserFormPostURL); err != nil {
		returnable = false
		pc.Error = cannotReturn(conn, err)
	}
	total := ""
	if !cart.Empty() {
		total = moneyText(cart.Total)
	}
	return p.render(c, http.StatusOK, "cart", struct {
		*pageContext
		Lines      []lineView
		Total      string
		Returnable bool
	}{pc, lines, total, returnable})
}

// Checkout answers POST /punchout/s/{token}/checkout (action=checkout):
// the page that posts the PunchOutOrderMessage to the session's
// BrowserFormPost URL, by script on load or by its button.
func (p *Pages) Checkout(c echo.Context) error {
	ctx := c.Request().Context()
	sess, conn, pc, err := p.session(c)
	if err != nil {
		return p.renderError(c, err)
	}
	// Checked again here, not only at setup: the allow-list may have
	// changed since, and a session stored before a rule was tightened
	// must not slip through.
	src := formActionSource(sess.BrowserFormPostURL)
	if err := conn.CheckFormPost(sess.BrowserFormPostURL); err != nil || src == "" {
		pc.Title = "Cart not returned"
		return p.render(c, http.StatusForbidden, "message", messageView{pageContext: pc,
			Heading: "This cart cannot be returned to " + conn.SystemName(), Message: cannotReturn(conn, err)})
	}
	out, cart, err := p.Carts.Return(ctx, sess, conn, web.RequestID(c))
	if err != nil {
		return p.renderError(c, ended(err, sess, conn, pc))
	}
	value := string(out)
	if conn.FormPostField == FieldBase64 {
		value = base64.StdEncoding.EncodeToString(out)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n64 := base64.StdEncoding.EncodeToString(nonce)
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+n64+"'; form-action "+
		src+"; frame-ancestors 'self' "+src+"; base-uri 'none'")
	total := ""
	if !cart.Empty() {
		total = moneyText(cart.Total)
	}
	return p.render(c, http.StatusOK, "checkout", struct {
		SystemName, Action, Field, Value, Total, Nonce, Target string
		Count                                                  int
	}{conn.SystemName(), strings.TrimSpace(sess.BrowserFormPostURL), conn.FormPostField, value, total, n64, "", len(cart.Lines)})
}

// cannotReturn says on a page why a session's cart cannot go back to its
// procurement system (err from CheckFormPost, or nil when the URL has no
// usable origin at all).
func cannotReturn(conn *Connection, err error) string {
	why := "its return address is not a usable http(s) URL"
	if err != nil {
		why = errs.MessageOf(err)
	}
	return "This cart cannot be returned to " + conn.SystemName() + ": " + why + ". Ask your administrator to check the punchout connection."
}

// moneyText writes an amount for people: thousands separators and the
// currency's own decimals.
func moneyText(a money.Amount) string {
	s, currency := a.String(), a.Currency()
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return currency + " " + out
}

// PriceText is an offer's price as the start page shows it.
func PriceText(conn *Connection, o *catalog.Offer) string {
	switch o.PricingModel {
	case catalog.Upfront:
		return moneyText(o.Price)
	case catalog.Annual:
		return moneyText(o.Price) + " per year"
	case catalog.FPS:
		v, _ := o.TotalContractValue()
		return moneyText(v) + " total"
	case catalog.PAYG:
		return "Pay for what you use"
	case catalog.Free:
		return "Free"
	case catalog.BYOL:
		return "Your own license"
	}
	return ""
}

// TermsText is an offer's terms in a sentence.
func TermsText(conn *Connection, o *catalog.Offer) string {
	switch o.PricingModel {
	case catalog.Upfront:
		return "Paid up front for " + Term(o) + "."
	case catalog.Annual:
		return "Billed yearly, " + Term(o) + "."
	case catalog.FPS:
		var parts []string
		for _, in := range o.Schedule {
			parts = append(parts, in.Due+": "+moneyText(in.Amount))
		}
		return Term(o) + ". Payments " + strings.Join(parts, "; ") + "."
	case catalog.PAYG:
		var parts []string
		for _, d := range o.Dimensions {
			parts = append(parts, moneyText(d.UnitPrice)+" per "+d.Unit+" ("+d.Name+")")
		}
		return strings.Join(parts, "; ") + ". Requested at a blanket value of " + moneyText(CartPrice(conn, o)) + "; billed monthly on usage."
	case catalog.Free:
		return "No charge."
	case catalog.BYOL:
		return "No charge from the marketplace; use a license you already own."
	}
	return ""
}
