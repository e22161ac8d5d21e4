package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/organization"
	"github.com/cxmlgate/punchout/punchout"
)

// routes registers every route of the gateway. It is the one place to read
// to know what the gateway serves.
func (a *App) routes() {
	e := a.Echo
	orgs := &organization.HTTP{Store: a.Organizations}
	po := &punchout.HTTP{Endpoint: a.Endpoint, Connections: a.Connections, MaxBytes: a.Config.MaxBodyBytes, Metrics: a.Metrics}

	// Operations.
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{})))

	// cXML: every method answers with cXML.
	e.Any("/cxml", po.CXML)

	// Admin API.
	api := e.Group("/api/v1", web.BearerAuth(a.Config.AdminToken))
	api.POST("/organizations", orgs.Create)
	api.GET("/organizations", orgs.List)
	api.GET("/organizations/:id", orgs.Get)
	api.POST("/connections", po.CreateConnection)
	api.GET("/connections", po.ListConnections)
	api.GET("/connections/:id", po.GetConnection)
	api.POST("/connections/:id/disable", po.DisableConnection)
	api.GET("/exchanges", po.ListExchanges)
}

func (a *App) ready(c echo.Context) error {
	if err := a.DB.Ping(c.Request().Context()); err != nil {
		a.Log.Error("readiness: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
