package app

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	apidoc "github.com/cxmlgate/punchout/api"
	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/checkout"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
	"github.com/cxmlgate/punchout/punchout"
)

// routes registers every route of the gateway. It is the one place to read
// to know what the gateway serves.
func (a *App) routes() {
	e := a.Echo
	orgs := &organization.HTTP{Store: a.Organizations}
	cat := &catalog.HTTP{Store: a.Catalog}
	inv := &invoicing.HTTP{POs: a.POs, Agreements: a.Agreements, Billing: a.Billing}
	autoApprovals := &punchout.AutoApprovals{DB: a.DB, Sessions: a.Sessions, Catalog: a.Catalog, Agreements: a.Agreements, Mail: a.Mail, Now: a.Config.Now}
	carts := &punchout.Carts{DB: a.DB, Sessions: a.Sessions, Catalog: a.Catalog, Keys: a.Keys, IDs: a.IDs, Now: a.Config.Now}
	pages := &punchout.Pages{
		Sessions: a.Sessions, Connections: a.Connections, Catalog: a.Catalog, Orgs: a.Organizations,
		Carts: carts, AutoApprovals: autoApprovals, BaseURL: a.Config.BaseURL, Now: a.Config.Now,
	}
	atCheckout := &checkout.HTTP{Subscriptions: &checkout.Subscriptions{
		DB: a.DB, Orgs: a.Organizations, Catalog: a.Catalog, Agreements: a.Agreements, Mail: a.Mail, Now: a.Config.Now}}
	exchanges := &exchange.HTTP{DB: a.DB.R}
	outbox := &mail.HTTP{DB: a.DB.R}
	po := &punchout.HTTP{Endpoint: a.Endpoint, Connections: a.Connections, MaxBytes: a.Config.MaxBodyBytes, Metrics: a.Metrics,
		Failures: a.Failures, Parsing: a.Parsing}

	// Operations.
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{})))

	// cXML: every method answers with cXML.
	e.Any("/cxml", po.CXML)

	// Punchout pages: the StartPage and what follows, reached by token.
	e.GET("/punchout/s/:token", pages.StartPage)
	e.GET("/punchout/s/:token/products/:id", pages.Product)
	e.GET("/punchout/s/:token/cart", pages.Cart)
	e.POST("/punchout/s/:token/cart", pages.AddToCart)
	e.POST("/punchout/s/:token/cart/remove", pages.RemoveFromCart)
	e.POST("/punchout/s/:token/checkout", pages.Checkout)

	// Admin console: server-rendered pages, signed in with a session
	// cookie; forms posted from another origin are refused.
	con := a.Console
	adm := e.Group("/admin", con.Protect, con.Sessions)
	pg := a.ConsolePages
	in := pg.SignedIn
	adm.GET("", pg.Home, in)
	adm.GET("/static/copy.js", pg.Script)
	adm.GET("/connections", pg.ListConnections, in)
	adm.GET("/connections/new", pg.NewConnection, in)
	adm.POST("/connections", pg.CreateConnection, in)
	adm.GET("/connections/:id", pg.ShowConnection, in)
	adm.GET("/connections/:id/edit", pg.EditConnection, in)
	adm.POST("/connections/:id", pg.UpdateConnection, in)
	adm.POST("/connections/:id/rotate", pg.RotateSecret, in)
	adm.POST("/connections/:id/disable", pg.DisableConnection, in)
	adm.POST("/connections/:id/test", pg.TestConnection, in)
	adm.GET("/invoices", pg.ListInvoices, in)
	adm.GET("/invoices/:id", pg.ShowInvoice, in)
	adm.POST("/invoices/:id/resend", pg.ResendInvoice, in)
	adm.GET("/login", con.LoginForm)
	adm.POST("/login", con.Login)
	adm.POST("/logout", con.Logout)
	adm.GET("/oidc/start", con.OIDCStart)
	adm.GET("/oidc/callback", con.OIDCCallback)

	// Admin API, described by api/openapi.yaml.
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", apidoc.OpenAPI) })
	acc := &access.HTTP{DB: a.DB, Users: a.Users, Tokens: a.Tokens}
	api := a.Guard.Group(e.Group("/api/v1"), "/api/v1")
	// Each route names the least role it needs and how the organization
	// of what it touches is found (access.Policy); access.Guard enforces
	// both before the handler runs.
	var (
		global   = func(r access.Role) access.Policy { return access.Policy{Role: r, Scope: access.Global} }
		queryOrg = func(r access.Role) access.Policy { return access.Policy{Role: r, Scope: access.QueryOrg} }
		pathOrg  = func(r access.Role) access.Policy { return access.Policy{Role: r, Scope: access.PathOrg} }
		bodyOrg  = func(r access.Role) access.Policy { return access.Policy{Role: r, Scope: access.BodyOrg} }
		self     = func(r access.Role) access.Policy { return access.Policy{Role: r, Scope: access.Self} }
		owned    = func(r access.Role, noun string, org func(ctx context.Context, id string) (string, error)) access.Policy {
			return access.Policy{Role: r, Scope: access.Owned, Owner: ownerOf(noun, org), Noun: noun}
		}
	)
	connOrg := func(ctx context.Context, id string) (string, error) {
		c, err := a.Connections.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return c.OrganizationID, nil
	}
	exchangeOrg := func(ctx context.Context, id string) (string, error) {
		d, err := exchange.Get(ctx, a.DB.R, id)
		if err != nil {
			return "", err
		}
		if d.OrganizationID == nil {
			return "", nil // Refused before its sender authenticated: an operator's only.
		}
		return *d.OrganizationID, nil
	}
	agreementOrg := func(ctx context.Context, id string) (string, error) {
		ag, err := a.Agreements.Get(ctx, nil, id)
		if err != nil {
			return "", err
		}
		return ag.OrganizationID, nil
	}
	invoiceOrg := a.Billing.InvoiceOrganization
	usage := access.Policy{Role: access.Billing, Scope: access.Self, Check: a.usageAgreementsOwned}

	api.Handle(http.MethodPost, "/organizations", orgs.Create, global(access.Operator))
	api.Handle(http.MethodGet, "/organizations", orgs.List, global(access.Operator))
	api.Handle(http.MethodGet, "/organizations/:id", orgs.Get, pathOrg(access.Viewer))
	api.Handle(http.MethodPost, "/connections", po.CreateConnection, bodyOrg(access.Admin))
	api.Handle(http.MethodGet, "/connections", po.ListConnections, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/connections/:id", po.GetConnection, owned(access.Viewer, "connection", connOrg))
	api.Handle(http.MethodPatch, "/connections/:id", po.UpdateConnection, owned(access.Admin, "connection", connOrg))
	api.Handle(http.MethodPost, "/connections/:id/disable", po.DisableConnection, owned(access.Admin, "connection", connOrg))
	api.Handle(http.MethodGet, "/exchanges", exchanges.List, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/exchanges/:id", exchanges.Get, owned(access.Viewer, "exchange", exchangeOrg))
	api.Handle(http.MethodPost, "/catalog/import", cat.Import, global(access.Operator))
	api.Handle(http.MethodGet, "/products", cat.ListProducts, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/offers/:id", cat.GetOffer, global(access.Operator))
	api.Handle(http.MethodGet, "/organizations/:id/private-marketplace", cat.GetPrivateMarketplace, pathOrg(access.Viewer))
	api.Handle(http.MethodPut, "/organizations/:id/private-marketplace", cat.PutPrivateMarketplace, pathOrg(access.Admin))
	api.Handle(http.MethodPost, "/purchase-orders", inv.CreatePO, bodyOrg(access.Billing))
	api.Handle(http.MethodGet, "/purchase-orders", inv.ListPOs, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/purchase-orders/:id", inv.GetPO, queryOrg(access.Viewer))
	api.Handle(http.MethodPatch, "/purchase-orders/:id", inv.PatchPO, queryOrg(access.Billing))
	api.Handle(http.MethodGet, "/agreements", inv.ListAgreements, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/agreements/:id", inv.GetAgreement, owned(access.Viewer, "agreement", agreementOrg))
	api.Handle(http.MethodPatch, "/agreements/:id", inv.PatchAgreement, owned(access.Billing, "agreement", agreementOrg))
	api.Handle(http.MethodGet, "/agreements/:id/charges", inv.AgreementCharges, owned(access.Viewer, "agreement", agreementOrg))
	api.Handle(http.MethodGet, "/outbox", outbox.List, queryOrg(access.Billing))
	api.Handle(http.MethodPost, "/subscriptions", atCheckout.Subscribe, bodyOrg(access.Billing))
	api.Handle(http.MethodPost, "/usage", inv.PostUsage, usage)
	api.Handle(http.MethodGet, "/invoices", inv.ListInvoices, queryOrg(access.Viewer))
	api.Handle(http.MethodGet, "/invoices/:id/cxml", inv.InvoiceCXML, owned(access.Viewer, "invoice", invoiceOrg))
	api.Handle(http.MethodPost, "/invoices/:id/resend", inv.ResendInvoice, owned(access.Billing, "invoice", invoiceOrg))
	api.Handle(http.MethodPost, "/billing/run", inv.RunBilling, global(access.Operator))
	api.Handle(http.MethodPost, "/tokens", acc.CreateToken, self(access.Admin))
	api.Handle(http.MethodGet, "/tokens", acc.ListTokens, queryOrg(access.Admin))
	api.Handle(http.MethodDelete, "/tokens/:id", acc.RevokeToken, self(access.Admin))
	api.Handle(http.MethodPost, "/users", acc.CreateUser, self(access.Admin))
	api.Handle(http.MethodGet, "/users", acc.ListUsers, queryOrg(access.Admin))
	api.Handle(http.MethodGet, "/users/:id", acc.GetUser, self(access.Admin))
	api.Handle(http.MethodPatch, "/users/:id", acc.PatchUser, self(access.Admin))
	api.Handle(http.MethodDelete, "/users/:id", acc.DeleteUser, self(access.Admin))
	api.Handle(http.MethodGet, "/audit", acc.Audit, queryOrg(access.Admin))
}

func (a *App) ready(c echo.Context) error {
	if err := a.DB.Ping(c.Request().Context()); err != nil {
		a.Log.Error("readiness: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// ownerOf makes the Owner of an access policy from a lookup of an
// object's organization. A missing object and another organization's
// are answered alike, with the same words, so neither tells the other
// apart.
func ownerOf(noun string, org func(ctx context.Context, id string) (string, error)) func(ctx context.Context, c echo.Context) (string, error) {
	return func(ctx context.Context, c echo.Context) (string, error) {
		id := c.Param("id")
		o, err := org(ctx, id)
		if errs.Is(err, errs.NotFound) {
			return "", access.NotFound(noun, id)
		}
		return o, err
	}
}

// usageAgreementsOwned refuses usage records of agreements of another
// organization than the caller's, as if they did not exist.
func (a *App) usageAgreementsOwned(ctx context.Context, p access.Principal, body []byte) error {
	var in struct {
		Records []struct {
			AgreementID string `json:"agreement_id"`
		} `json:"records"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil // The handler says what is wrong with the body.
	}
	seen := map[string]bool{}
	for _, r := range in.Records {
		if seen[r.AgreementID] {
			continue
		}
		seen[r.AgreementID] = true
		ag, err := a.Agreements.Get(ctx, nil, r.AgreementID)
		if errs.Is(err, errs.NotFound) || (err == nil && !p.Sees(ag.OrganizationID)) {
			return access.NotFound("agreement", r.AgreementID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
