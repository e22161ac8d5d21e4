package exchange

import (
	"net/http"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/errs"
)

// HTTP serves the exchange log on the admin API.
type HTTP struct {
	DB sqlx.ExtContext
}

// List answers GET /api/v1/exchanges?connection_id=&organization_id=&payload_id=&limit=&cursor=:
// the log of cXML documents, newest first, without their documents, a
// page at a time (next_cursor continues it).
func (h *HTTP) List(c echo.Context) error {
	f := Filter{
		ConnectionID:   c.QueryParam("connection_id"),
		OrganizationID: c.QueryParam("organization_id"),
		PayloadID:      c.QueryParam("payload_id"),
		Cursor:         c.QueryParam("cursor"),
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return errs.E(errs.Invalid, "limit must be a number from 1 to %d", MaxLimit)
		}
		f.Limit = n
	}
	page, err := List(c.Request().Context(), h.DB, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// Get answers GET /api/v1/exchanges/{id}: one logged document, with its
// shared secrets redacted.
func (h *HTTP) Get(c echo.Context) error {
	d, err := Get(c.Request().Context(), h.DB, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
