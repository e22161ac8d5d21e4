package console

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/punchout"
)

type connRow struct {
	*punchout.Connection
	Last   time.Time
	Errors int
}

type connList struct {
	Rows                   []connRow
	Pager                  pager
	Q, System, Status, Org string
	CanEdit                bool
}

// ListConnections answers GET /admin/connections?q=&system=&status=&page=
// (viewer): the organization's connections, filtered by name, system
// and status, with their last document and errors in the last day.
func (p *Pages) ListConnections(ec echo.Context) error {
	org, err := orgOf(ec)
	if err != nil {
		return err
	}
	ctx := ec.Request().Context()
	all, err := p.Connections.List(ctx, org)
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimSpace(ec.QueryParam("q")))
	system, status := ec.QueryParam("system"), ec.QueryParam("status")
	all = slices.DeleteFunc(all, func(c *punchout.Connection) bool {
		return (q != "" && !strings.Contains(strings.ToLower(c.Name), q) && !strings.Contains(c.ID, q)) ||
			(system != "" && string(c.System) != system) ||
			(status == "enabled" && c.Disabled) || (status == "disabled" && !c.Disabled)
	})
	from, to, pg := paginate(ec, len(all))
	errCount, err := exchange.Errors(ctx, p.Exchanges, org, p.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	d := connList{Pager: pg, Q: ec.QueryParam("q"), System: system, Status: status, CanEdit: principal(ec).Role.AtLeast(access.Admin)}
	if !principal(ec).Scoped() {
		d.Org = org // The operator's pick, kept in the links.
	}
	for _, c := range all[from:to] {
		last, err := exchange.Last(ctx, p.Exchanges, c.ID)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, connRow{Connection: c, Last: last, Errors: errCount[c.ID]})
	}
	return p.render(ec, http.StatusOK, "connections", view{Title: "Connections", Nav: "connections", Org: org, Data: d})
}

// connPage is a connection's page.
type connPage struct {
	C      *punchout.Connection
	Last   time.Time
	Errors int
	// Secret is the shared secret, shown once: right after create or
	// rotate, and never again.
	Secret  string
	CXMLURL string
	CanEdit bool
	Test    *testResult
	Panels  []panel
}

type testResult struct {
	Code                int
	Text, Message       string
	StartPage           string
	Request, Answer     string
	OK                  bool
	BrowserFormPostNote string
}

func (p *Pages) connection(ec echo.Context) (*punchout.Connection, error) {
	id := ec.Param("id")
	c, err := p.Connections.Get(ec.Request().Context(), id)
	if errs.Is(err, errs.NotFound) {
		return nil, access.NotFound("connection", id)
	}
	if err != nil {
		return nil, err
	}
	if err := owned(ec, "connection", id, c.OrganizationID); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *Pages) showConnection(ec echo.Context, status int, c *punchout.Connection, v view, d connPage) error {
	ctx := ec.Request().Context()
	last, err := exchange.Last(ctx, p.Exchanges, c.ID)
	if err != nil {
		return err
	}
	errCount, err := exchange.Errors(ctx, p.Exchanges, c.OrganizationID, p.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	d.C, d.Last, d.Errors, d.CXMLURL = c, last, errCount[c.ID], p.BaseURL+"/cxml"
	d.CanEdit = principal(ec).Role.AtLeast(access.Admin)
	d.Panels = setupPanels(c, d.CXMLURL, d.Secret)
	v.Title, v.Nav, v.Data = c.Name, "connections", d
	return p.render(ec, status, "connection", v)
}

// ShowConnection answers GET /admin/connections/{id} (viewer).
func (p *Pages) ShowConnection(ec echo.Context) error {
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	return p.showConnection(ec, http.StatusOK, c, view{}, connPage{})
}

// connForm is the create and edit form, as filled in.
type connForm struct {
	Edit                                     bool
	ID, OrganizationID, Name, System         string
	BuyerDomain, BuyerIdentity               string
	SupplierDomain, SupplierIdentity         string
	SenderDomain, SenderIdentity             string
	FormPostField, PAYGBlanket, AllowedHosts string
	AutoApprove, EInvoice, HasEInvoiceSecret bool
	EInvoiceEndpoint                         string
	ShowOrgPicker                            bool
}

func formOf(c *punchout.Connection) connForm {
	return connForm{
		Edit: true, ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, System: string(c.System),
		BuyerDomain: c.BuyerCredential.Domain, BuyerIdentity: c.BuyerCredential.Identity,
		SupplierDomain: c.SupplierCredential.Domain, SupplierIdentity: c.SupplierCredential.Identity,
		SenderDomain: c.SenderCredential.Domain, SenderIdentity: c.SenderCredential.Identity,
		FormPostField: c.FormPostField, PAYGBlanket: c.PAYGBlanketAmount, AllowedHosts: strings.Join(c.AllowedFormPostHosts, "\n"),
		AutoApprove: c.AutoApproveFreeBYOL, EInvoice: c.EInvoice.Enabled, EInvoiceEndpoint: c.EInvoice.Endpoint,
		HasEInvoiceSecret: c.EInvoice.HasSecret,
	}
}

func (p *Pages) showForm(ec echo.Context, status int, f connForm, msg string) error {
	f.ShowOrgPicker = !principal(ec).Scoped() && !f.Edit
	title := "New connection"
	if f.Edit {
		title = "Edit " + f.Name
	}
	return p.render(ec, status, "connection_form", view{Title: title, Nav: "connections", Error: msg, Data: f})
}

// NewConnection answers GET /admin/connections/new (admin).
func (p *Pages) NewConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	org, err := orgOf(ec)
	if err != nil {
		return err
	}
	return p.showForm(ec, http.StatusOK, connForm{OrganizationID: org, System: string(punchout.Coupa),
		FormPostField: punchout.FieldURLEncoded, PAYGBlanket: punchout.DefaultPAYGBlanket.String()}, "")
}

func hostsOf(s string) []string {
	out := []string{}
	for _, h := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' || r == ' ' }) {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func readForm(ec echo.Context) connForm {
	v := ec.FormValue
	return connForm{
		OrganizationID: strings.TrimSpace(v("organization_id")), Name: v("name"), System: v("system"),
		BuyerDomain: v("buyer_domain"), BuyerIdentity: v("buyer_identity"),
		SupplierDomain: v("supplier_domain"), SupplierIdentity: v("supplier_identity"),
		SenderDomain: v("sender_domain"), SenderIdentity: v("sender_identity"),
		FormPostField: v("form_post_field"), PAYGBlanket: v("payg_blanket_amount"), AllowedHosts: v("allowed_form_post_hosts"),
		AutoApprove: v("auto_approve_free_byol") == "on", EInvoice: v("einvoice_enabled") == "on",
		EInvoiceEndpoint: strings.TrimSpace(v("einvoice_endpoint")),
	}
}

// newSecret makes a shared secret: 24 random bytes, URL-safe base64.
func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateConnection answers POST /admin/connections (admin): the new
// connection's page, with its shared secret shown this once.
func (p *Pages) CreateConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	f := readForm(ec)
	pr := principal(ec)
	if pr.Scoped() {
		if f.OrganizationID != "" && f.OrganizationID != pr.OrganizationID {
			return errs.E(errs.Forbidden, "you act for organization %s only", pr.OrganizationID)
		}
		f.OrganizationID = pr.OrganizationID
	}
	secret := ec.FormValue("shared_secret")
	if secret == "" {
		secret = newSecret()
	}
	c := &punchout.Connection{
		OrganizationID: f.OrganizationID, Name: f.Name, System: punchout.System(f.System),
		BuyerCredential:      punchout.Credential{Domain: f.BuyerDomain, Identity: f.BuyerIdentity},
		SupplierCredential:   punchout.Credential{Domain: f.SupplierDomain, Identity: f.SupplierIdentity},
		SenderCredential:     punchout.Credential{Domain: f.SenderDomain, Identity: f.SenderIdentity},
		SharedSecret:         secret,
		FormPostField:        f.FormPostField,
		AutoApproveFreeBYOL:  f.AutoApprove,
		PAYGBlanketAmount:    f.PAYGBlanket,
		AllowedFormPostHosts: hostsOf(f.AllowedHosts),
		EInvoice:             punchout.EInvoice{Enabled: f.EInvoice, Endpoint: f.EInvoiceEndpoint, SharedSecret: ec.FormValue("einvoice_shared_secret")},
	}
	if err := p.Connections.Create(ec.Request().Context(), c); err != nil {
		if status := formStatus(err); status != 0 {
			return p.showForm(ec, status, f, "The connection was not created: "+errs.MessageOf(err))
		}
		return err
	}
	return p.showConnection(ec, http.StatusCreated, c,
		view{Notice: "Connection created. Its shared secret is shown below this once: copy it into your procurement system now."},
		connPage{Secret: secret})
}

// formStatus is the status of an error a form's sender can correct, or 0.
func formStatus(err error) int {
	switch errs.CodeOf(err) {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Conflict:
		return http.StatusConflict
	case errs.NotFound:
		return http.StatusBadRequest
	}
	return 0
}

// EditConnection answers GET /admin/connections/{id}/edit (admin).
func (p *Pages) EditConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	return p.showForm(ec, http.StatusOK, formOf(c), "")
}

// UpdateConnection answers POST /admin/connections/{id} (admin). The
// credentials cannot change (punchout.ConnectionChange says why); an
// empty e-invoicing secret keeps the stored one.
func (p *Pages) UpdateConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	f := readForm(ec)
	hosts := hostsOf(f.AllowedHosts)
	ch := &punchout.ConnectionChange{
		FormPostField: &f.FormPostField, AutoApproveFreeBYOL: &f.AutoApprove, PAYGBlanketAmount: &f.PAYGBlanket,
		AllowedFormPostHosts: &hosts,
		EInvoice:             &punchout.EInvoice{Enabled: f.EInvoice, Endpoint: f.EInvoiceEndpoint, SharedSecret: ec.FormValue("einvoice_shared_secret")},
	}
	updated, err := p.Connections.Update(ec.Request().Context(), c.ID, ch)
	if err != nil {
		if status := formStatus(err); status != 0 {
			keep := formOf(c)
			keep.FormPostField, keep.AutoApprove, keep.PAYGBlanket, keep.AllowedHosts = f.FormPostField, f.AutoApprove, f.PAYGBlanket, f.AllowedHosts
			keep.EInvoice, keep.EInvoiceEndpoint = f.EInvoice, f.EInvoiceEndpoint
			return p.showForm(ec, status, keep, "The connection was not changed: "+errs.MessageOf(err))
		}
		return err
	}
	return p.showConnection(ec, http.StatusOK, updated, view{Notice: "Connection saved."}, connPage{})
}

// RotateSecret answers POST /admin/connections/{id}/rotate (admin): a
// new shared secret replaces the old one at once, shown this once.
func (p *Pages) RotateSecret(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	secret := newSecret()
	updated, err := p.Connections.Update(ec.Request().Context(), c.ID, &punchout.ConnectionChange{SharedSecret: &secret})
	if err != nil {
		return err
	}
	return p.showConnection(ec, http.StatusOK, updated,
		view{Notice: "A new shared secret is in use from now on; the old one no longer works. It is shown below this once: enter it in your procurement system now."},
		connPage{Secret: secret})
}

// DisableConnection answers POST /admin/connections/{id}/disable (admin).
func (p *Pages) DisableConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	updated, err := p.Connections.Disable(ec.Request().Context(), c.ID)
	if err != nil {
		return err
	}
	return p.showConnection(ec, http.StatusOK, updated, view{Notice: "Connection disabled: it authenticates nothing from now on. Its sessions, orders and invoices stay."}, connPage{})
}

// TestConnection answers POST /admin/connections/{id}/test (admin): a
// PunchOutSetupRequest with the connection's own credentials and the
// shared secret typed in the form (the gateway keeps only its digest),
// answered by /cxml as a buyer's would be. It shows the answer and the
// StartPage link.
func (p *Pages) TestConnection(ec echo.Context) error {
	if err := need(ec, access.Admin); err != nil {
		return err
	}
	c, err := p.connection(ec)
	if err != nil {
		return err
	}
	secret := ec.FormValue("shared_secret")
	if secret == "" {
		return p.showConnection(ec, http.StatusBadRequest, c, view{Error: "Type the connection's shared secret to send a test: the gateway keeps only a digest of it, so it cannot send it for you."}, connPage{})
	}
	formPost, note := p.testFormPost(c)
	now := p.Now().UTC()
	doc := &cxml.Document{
		PayloadID: now.Format("20060102T150405.000000000") + ".console-test@" + strings.TrimPrefix(strings.TrimPrefix(p.BaseURL, "https://"), "http://"),
		Timestamp: cxml.Timestamp{Time: now, Valid: true, Zoned: true},
		Header: &cxml.Header{
			From:   cxml.Party{Credentials: []cxml.Credential{{Domain: c.BuyerCredential.Domain, Identity: c.BuyerCredential.Identity}}},
			To:     cxml.Party{Credentials: []cxml.Credential{{Domain: c.SupplierCredential.Domain, Identity: c.SupplierCredential.Identity}}},
			Sender: cxml.Sender{Credentials: []cxml.Credential{{Domain: c.SenderCredential.Domain, Identity: c.SenderCredential.Identity, SharedSecret: secret}}, UserAgent: "Punchout console test"},
		},
		Request: &cxml.Request{DeploymentMode: "test", Body: &cxml.PunchOutSetupRequest{
			Operation: cxml.OperationCreate, BuyerCookie: "console-test-" + now.Format("150405"), BrowserFormPostURL: formPost,
		}},
	}
	body, err := cxml.Marshal(doc)
	if err != nil {
		return err
	}
	answer := p.CXML(ec.Request().Context(), body, web.RequestID(ec))
	res := &testResult{Request: string(cxml.RedactSecrets(body)), Answer: string(answer), BrowserFormPostNote: note}
	if got, err := cxml.Parse(answer, cxml.Limits{}); err != nil || got.Response == nil {
		res.Message = "The gateway's answer could not be read."
	} else {
		res.Code, res.Text, res.Message = got.Response.Status.Code, got.Response.Status.Text, got.Response.Status.Detail
		if sr, ok := got.Response.Body.(*cxml.PunchOutSetupResponse); ok && got.Response.Status.Success() {
			res.StartPage, res.OK = sr.StartPageURL, true
		}
	}
	return p.showConnection(ec, http.StatusOK, c, view{}, connPage{Test: res})
}

// testFormPost is the BrowserFormPost URL of a test: the gateway's own
// console, unless the connection's allow-list leaves the gateway's host
// out; then its first listed host, so that the test proves the
// credentials rather than the list.
func (p *Pages) testFormPost(c *punchout.Connection) (string, string) {
	own := p.BaseURL + "/admin/connections/" + c.ID
	if c.CheckFormPost(own) == nil {
		return own, ""
	}
	for _, h := range c.AllowedFormPostHosts {
		u := "https://" + h + "/"
		if strings.Contains(h, ":") {
			u = "https://[" + h + "]/"
		}
		if c.CheckFormPost(u) == nil {
			return u, "The connection's allow-list does not name this gateway's host, so the test names " + u + " as where the cart would go. Do not check out from the test's catalog."
		}
	}
	return own, ""
}
