package punchout

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/web"
)

// drainLimit is how much of an oversized body is read and thrown away so
// that the sender, still writing, receives the 413 answer instead of a
// reset connection. Beyond it the connection is closed.
const drainLimit = 64 << 20

// HTTP serves the punchout package over HTTP: /cxml and the admin API of
// connections.
type HTTP struct {
	Endpoint    *Endpoint
	Connections *Connections
	MaxBytes    int64
	Metrics     *web.Metrics
}

// CXML answers POST /cxml. The HTTP status is 200 whenever a cXML
// document is returned, whatever its Status code: cXML's status sits on
// top of HTTP, which only reports transport (cXML User's Guide; Coupa and
// Ariba both read the Status element, and Coupa retries on a 5xx Status).
func (h *HTTP) CXML(c echo.Context) error {
	r := c.Request()
	limit := h.MaxBytes
	if limit <= 0 {
		limit = cxml.DefaultMaxBytes
	}
	var body []byte
	var readErr error
	if r.Method != http.MethodPost {
		readErr = &cxml.Error{Code: cxml.StatusBadRequest, Detail: "cXML documents are sent with HTTP POST to this URL"}
	} else {
		body, readErr = cxml.ReadLimited(r.Body, limit)
		var ce *cxml.Error
		if errors.As(readErr, &ce) && ce.Code == cxml.StatusTooLarge {
			_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
	}
	res := h.Endpoint.Serve(r.Context(), body, readErr, web.RequestID(c))
	c.Set(web.KeyPayloadID, res.PayloadID)
	c.Set(web.KeyDocType, res.DocType)
	c.Set(web.KeyCXMLCode, res.Status.Code)
	if res.Err != nil {
		h.Endpoint.log.ErrorContext(r.Context(), "cxml request failed", "request_id", web.RequestID(c),
			"payload_id", res.PayloadID, "doc_type", res.DocType, "err", res.Err)
	}
	if h.Metrics != nil {
		h.Metrics.CXMLRequests.WithLabelValues(res.DocType, strconv.Itoa(res.Status.Code), strconv.FormatBool(res.Replayed)).Inc()
	}
	return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", res.Body)
}

// CreateConnection answers POST /api/v1/connections.
func (h *HTTP) CreateConnection(c echo.Context) error {
	var in Connection
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	in.ID, in.Disabled = "", false
	if err := h.Connections.Create(c.Request().Context(), &in); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, &in)
}

// GetConnection answers GET /api/v1/connections/{id}. No secret is ever
// in the answer.
func (h *HTTP) GetConnection(c echo.Context) error {
	conn, err := h.Connections.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

// ListConnections answers GET /api/v1/connections?organization_id=.
func (h *HTTP) ListConnections(c echo.Context) error {
	list, err := h.Connections.List(c.Request().Context(), c.QueryParam("organization_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"connections": list})
}

// DisableConnection answers POST /api/v1/connections/{id}/disable.
func (h *HTTP) DisableConnection(c echo.Context) error {
	conn, err := h.Connections.Disable(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

// ListExchanges answers GET /api/v1/exchanges?connection_id=&organization_id=&payload_id=&limit=:
// the log of cXML documents, without their bodies.
func (h *HTTP) ListExchanges(c echo.Context) error {
	f := exchange.Filter{
		ConnectionID:   c.QueryParam("connection_id"),
		OrganizationID: c.QueryParam("organization_id"),
		PayloadID:      c.QueryParam("payload_id"),
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return errs.E(errs.Invalid, "limit must be a positive number")
		}
		f.Limit = n
	}
	list, err := exchange.List(c.Request().Context(), h.Endpoint.db.R, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"exchanges": list})
}

// UpdateConnection answers PATCH /api/v1/connections/{id}.
func (h *HTTP) UpdateConnection(c echo.Context) error {
	var ch ConnectionChange
	if err := web.Bind(c, &ch); err != nil {
		return err
	}
	conn, err := h.Connections.Update(c.Request().Context(), c.Param("id"), &ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}
