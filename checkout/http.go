package checkout

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves POST /api/v1/subscriptions.
type HTTP struct {
	Subscriptions *Subscriptions
}

// Subscribe answers POST /api/v1/subscriptions {organization_id, offer_id,
// po_number, usage_po_number?, subscriber_email, subscriber_name?}.
func (h *HTTP) Subscribe(c echo.Context) error {
	var in Order
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	a, err := h.Subscriptions.Create(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}
