package punchout

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/throttle"
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
	// Failures counts refusals before authentication per source address;
	// a source that has too many is answered 429 without being read.
	Failures *throttle.Limiter
	// Parsing holds a slot for each document being parsed and answered;
	// when every slot is taken, a document is answered 503 at once.
	Parsing chan struct{}
}

// NewParsingSlots makes the slots of HTTP.Parsing: at most n documents
// parsed and answered at once.
func NewParsingSlots(n int) chan struct{} {
	if n <= 0 {
		n = DefaultMaxParsing
	}
	return make(chan struct{}, n)
}

// DefaultMaxParsing is how many /cxml documents are parsed at once by
// default: a 2 MiB document takes about 160 MiB as a tree, so 16 of them
// stay within a few GiB while leaving ordinary traffic, whose documents
// are a few KiB, far from the limit.
const DefaultMaxParsing = 16

// CXML answers POST /cxml. The HTTP status is 200 whenever a cXML
// document is returned, whatever its Status code: cXML's status sits on
// top of HTTP, which only reports transport (cXML User's Guide; Coupa and
// Ariba both read the Status element, and Coupa retries on a 5xx Status).
func (h *HTTP) CXML(c echo.Context) error {
	r := c.Request()
	var res *Result
	source := c.RealIP()
	switch {
	case h.Failures != nil && h.Failures.Blocked(source):
		// Refused before its body is read: a blocked source costs nothing.
		res = h.Endpoint.Throttled(h.Failures.RetryAfter())
		c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(int(h.Failures.RetryAfter().Seconds())))
		c.Response().Header().Set(echo.HeaderConnection, "close")
	default:
		body, readErr := h.read(c)
		if !h.acquire() {
			res = h.Endpoint.Busy(web.RequestID(c))
			break
		}
		res = h.Endpoint.Serve(r.Context(), body, readErr, web.RequestID(c))
		h.release()
		if res.Refused() && h.Failures != nil {
			h.Failures.Fail(source)
		}
	}
	c.Set(web.KeyPayloadID, res.PayloadID)
	c.Set(web.KeyDocType, res.DocType)
	c.Set(web.KeyCXMLCode, res.Status.Code)
	if res.Err != nil {
		h.Endpoint.log.ErrorContext(r.Context(), "cxml request failed", "request_id", web.RequestID(c),
			"payload_id", web.Cut(res.PayloadID, 128), "doc_type", web.Cut(res.DocType, 128), "err", res.Err)
	}
	if h.Metrics != nil {
		h.Metrics.CXMLRequests.WithLabelValues(h.Endpoint.kindLabel(res.DocType), strconv.Itoa(res.Status.Code), strconv.FormatBool(res.Replayed)).Inc()
	}
	return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", res.Body)
}

// read reads the body of a POST, at most MaxBytes of it.
func (h *HTTP) read(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.Method != http.MethodPost {
		return nil, &cxml.Error{Code: cxml.StatusBadRequest, Detail: "cXML documents are sent with HTTP POST to this URL"}
	}
	limit := h.MaxBytes
	if limit <= 0 {
		limit = cxml.DefaultMaxBytes
	}
	body, err := cxml.ReadLimited(r.Body, limit)
	var ce *cxml.Error
	if errors.As(err, &ce) && ce.Code == cxml.StatusTooLarge {
		_, _ = io.CopyN(io.Discard, r.Body, drainLimit)
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	if err == nil && formBody(r.Header.Get(echo.HeaderContentType), body) {
		return nil, &cxml.Error{Code: cxml.StatusBadRequest, Detail: "this URL takes a cXML document sent as text/xml, and a form-encoded body was sent; " +
			"post the cXML document itself (a cart goes back to the procurement system's BrowserFormPost URL, not here)"}
	}
	return body, err
}

// formBody reports whether a body is an HTML form's (a field=value
// encoding, or multipart) rather than an XML document sent with a form's
// content type, which is read as the document it is.
func formBody(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
		return false
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), " \t\r\n")
	return !bytes.HasPrefix(trimmed, []byte("<"))
}

// acquire takes a parsing slot if one is free; it never waits, so that a
// flood is answered at once rather than queued.
func (h *HTTP) acquire() bool {
	if h.Parsing == nil {
		return true
	}
	select {
	case h.Parsing <- struct{}{}:
		return true
	default:
		return false
	}
}

func (h *HTTP) release() {
	if h.Parsing != nil {
		<-h.Parsing
	}
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
