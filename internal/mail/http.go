package mail

import (
	"net/http"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
)

// HTTP serves the outbox on the admin API.
type HTTP struct {
	DB sqlx.ExtContext
}

// List answers GET /api/v1/outbox?organization_id=&status=: mail waiting,
// sent or failed, newest first.
func (h *HTTP) List(c echo.Context) error {
	list, err := List(c.Request().Context(), h.DB, c.QueryParam("organization_id"), c.QueryParam("status"), 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": list})
}
