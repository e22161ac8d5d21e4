package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	apidoc "github.com/cxmlgate/punchout/api"
	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/web"
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
	subs := &punchout.Subscriptions{DB: a.DB, Sessions: a.Sessions, Orgs: a.Organizations, Catalog: a.Catalog, Agreements: a.Agreements, Mail: a.Mail, Now: a.Config.Now}
	carts := &punchout.Carts{DB: a.DB, Sessions: a.Sessions, Catalog: a.Catalog, Keys: a.Keys, IDs: a.IDs, Now: a.Config.Now}
	pages := &punchout.Pages{
		Sessions: a.Sessions, Connections: a.Connections, Catalog: a.Catalog, Orgs: a.Organizations,
		Carts: carts, Subscriptions: subs, BaseURL: a.Config.BaseURL, Now: a.Config.Now,
	}
	checkout := &punchout.CheckoutHTTP{Subscriptions: subs}
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

	// Admin API, described by api/openapi.yaml.
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", apidoc.OpenAPI) })
	api := e.Group("/api/v1", web.BearerAuth(a.Config.AdminToken, a.Failures))
	api.POST("/organizations", orgs.Create)
	api.GET("/organizations", orgs.List)
	api.GET("/organizations/:id", orgs.Get)
	api.POST("/connections", po.CreateConnection)
	api.GET("/connections", po.ListConnections)
	api.GET("/connections/:id", po.GetConnection)
	api.PATCH("/connections/:id", po.UpdateConnection)
	api.POST("/connections/:id/disable", po.DisableConnection)
	api.GET("/exchanges", exchanges.List)
	api.GET("/exchanges/:id", exchanges.Get)
	api.POST("/catalog/import", cat.Import)
	api.GET("/products", cat.ListProducts)
	api.GET("/offers/:id", cat.GetOffer)
	api.GET("/organizations/:id/private-marketplace", cat.GetPrivateMarketplace)
	api.PUT("/organizations/:id/private-marketplace", cat.PutPrivateMarketplace)
	api.POST("/purchase-orders", inv.CreatePO)
	api.GET("/purchase-orders", inv.ListPOs)
	api.GET("/purchase-orders/:id", inv.GetPO)
	api.PATCH("/purchase-orders/:id", inv.PatchPO)
	api.GET("/agreements", inv.ListAgreements)
	api.GET("/agreements/:id", inv.GetAgreement)
	api.PATCH("/agreements/:id", inv.PatchAgreement)
	api.GET("/agreements/:id/charges", inv.AgreementCharges)
	api.GET("/outbox", outbox.List)
	api.POST("/subscriptions", checkout.Subscribe)
	api.POST("/usage", inv.PostUsage)
	api.GET("/invoices", inv.ListInvoices)
	api.GET("/invoices/:id/cxml", inv.InvoiceCXML)
	api.POST("/invoices/:id/resend", inv.ResendInvoice)
	api.POST("/billing/run", inv.RunBilling)
}

func (a *App) ready(c echo.Context) error {
	if err := a.DB.Ping(c.Request().Context()); err != nil {
		a.Log.Error("readiness: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
