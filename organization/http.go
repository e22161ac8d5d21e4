package organization

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves organizations in the admin API.
type HTTP struct {
	Store *Store
}

// Create answers POST /api/v1/organizations.
func (h *HTTP) Create(c echo.Context) error {
	var o Organization
	if err := web.Bind(c, &o); err != nil {
		return err
	}
	o.ID = ""
	if err := h.Store.Create(c.Request().Context(), &o); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &o)
}

// Get answers GET /api/v1/organizations/{id}.
func (h *HTTP) Get(c echo.Context) error {
	o, err := h.Store.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// List answers GET /api/v1/organizations.
func (h *HTTP) List(c echo.Context) error {
	list, err := h.Store.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"organizations": list})
}
