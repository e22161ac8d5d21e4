// Package web is the HTTP plumbing every feature's handlers share: the
// Echo instance with its middleware (request ID, recovery, request log,
// context timeout), the one error handler that renders JSON under /api,
// cXML under /cxml and HTML elsewhere, admin bearer authentication and
// Prometheus metrics. It knows no feature package.
package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/id"
	"github.com/cxmlgate/punchout/internal/throttle"
)

// Context keys set by handlers for the request log.
const (
	KeyPayloadID = "payload_id"
	KeyDocType   = "doc_type"
	KeyCXMLCode  = "cxml_status"
)

// Options configure New.
type Options struct {
	Log            *slog.Logger
	Metrics        *Metrics
	IDs            *cxml.PayloadIDs
	RequestTimeout time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For is believed;
	// with none, the client address is the socket's peer, whatever the
	// request's headers say.
	TrustedProxies []*net.IPNet
	// Now dates the cXML answers of the error handler (time.Now when
	// nil); request durations keep to the wall clock.
	Now func() time.Time
}

// New returns an Echo instance with the gateway's middleware and error
// handler. Routes are added by the caller.
func New(o Options) *echo.Echo {
	if o.Now == nil {
		o.Now = time.Now
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	e.HTTPErrorHandler = errorHandler(o)
	e.IPExtractor = ipExtractor(o.TrustedProxies)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: func() string { return id.New("req") },
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		o.Log.Error("panic", "request_id", requestID(c), "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(requestLog(o.Log, o.Metrics))
	e.Use(middleware.ContextTimeout(o.RequestTimeout))
	return e
}

// ipExtractor takes the client address from the socket, or, for requests
// that came through one of the trusted proxies, from X-Forwarded-For: the
// last address in it that is not itself a trusted proxy. Echo's defaults,
// which trust loopback and private networks, are turned off, so no client
// can choose the address that is logged and rate limited.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseProxies reads a comma-separated list of addresses and CIDR
// networks (the --trusted-proxies flag).
func ParseProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR network", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR network", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// Cut shortens s to at most n bytes, at a rune boundary, marking the cut
// with "…". Log fields that come from a request are cut, so that a log
// line costs a bounded amount whatever a stranger sends.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Bounds of request-controlled log fields.
const (
	maxLogPath  = 256
	maxLogField = 128
)

// knownMethods are the HTTP methods that become metric labels; any other
// is counted as "other", so a client cannot mint label values.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// RequestID is the ID of the request, as sent back in X-Request-Id.
func RequestID(c echo.Context) string { return requestID(c) }

func requestLog(log *slog.Logger, m *Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			took := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			if m != nil {
				m.observeHTTP(methodLabel(c.Request().Method), route, status, took)
			}
			attrs := []any{
				"request_id", requestID(c), "method", Cut(c.Request().Method, 16), "path", Cut(c.Request().URL.Path, maxLogPath),
				"status", status, "duration_ms", float64(took.Microseconds()) / 1000, "remote", c.RealIP(),
			}
			for _, k := range []string{KeyPayloadID, KeyDocType, KeyCXMLCode} {
				switch v := c.Get(k).(type) {
				case nil:
				case string:
					attrs = append(attrs, k, Cut(v, maxLogField))
				default:
					attrs = append(attrs, k, v)
				}
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				level = slog.LevelDebug
			}
			log.Log(c.Request().Context(), level, "request", attrs...)
			return nil
		}
	}
}

// errorHandler renders every error once, in the form the caller reads:
// a cXML Status under /cxml (where nothing but cXML may leave), JSON
// {"error": {...}} under /api, a short HTML page elsewhere. Only 5xx are
// logged with their cause.
func errorHandler(o Options) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, code, msg := classify(err)
		if status >= 500 {
			o.Log.Error("request failed", "request_id", requestID(c), "path", Cut(c.Request().URL.Path, maxLogPath), "err", err)
		}
		path := c.Request().URL.Path
		switch {
		case path == "/cxml" || strings.HasPrefix(path, "/cxml/"):
			cxmlCode := errs.CXMLStatus(err)
			if he := (*echo.HTTPError)(nil); errors.As(err, &he) {
				cxmlCode = httpToCXML(he.Code)
			}
			detail := msg
			if status >= 500 {
				detail = fmt.Sprintf("internal error (request ID %s); nothing was changed, send the same document again later", requestID(c))
			}
			doc := cxml.NewResponse(o.IDs.New(), o.Now(), cxml.NewStatus(cxmlCode, detail), nil)
			b, _ := cxml.Marshal(doc)
			_ = c.Blob(http.StatusOK, "text/xml; charset=UTF-8", b)
		case strings.HasPrefix(path, "/api/"):
			_ = c.JSON(status, map[string]any{"error": map[string]string{"code": string(code), "message": msg}})
		default:
			_ = c.HTML(status, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"+
				html.EscapeString(http.StatusText(status))+"</title></head><body><main><h1>"+
				html.EscapeString(http.StatusText(status))+"</h1><p>"+html.EscapeString(msg)+"</p></main></body></html>")
		}
	}
}

func classify(err error) (int, errs.Code, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok {
			msg = s
		}
		code := errs.Invalid
		switch he.Code {
		case http.StatusNotFound:
			code = errs.NotFound
		case http.StatusUnauthorized:
			code = errs.Unauthorized
		case http.StatusForbidden:
			code = errs.Forbidden
		case http.StatusRequestEntityTooLarge:
			code = errs.TooLarge
		case http.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case http.StatusTooManyRequests:
			code = errs.TooMany
		}
		if he.Code >= 500 {
			code = errs.Internal
		}
		return he.Code, code, msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable, errs.Internal, "the request took too long; try again"
	}
	return errs.HTTPStatus(err), errs.CodeOf(err), errs.MessageOf(err)
}

func httpToCXML(code int) int {
	switch {
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return cxml.StatusBadRequest
	case code == http.StatusServiceUnavailable:
		return cxml.StatusServiceUnavailable
	case code >= 500:
		return cxml.StatusInternalServerError
	}
	return code
}

// TooManyFailures is the error for a client address that failed to
// authenticate too often, with a Retry-After header.
func TooManyFailures(c echo.Context, lim *throttle.Limiter) error {
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(int(lim.RetryAfter().Seconds())))
	return errs.E(errs.TooMany, "too many failed authentications from this address; wait %s before trying again, with the right credentials", lim.RetryAfter())
}

// Bind decodes a JSON body into v, refusing unknown fields, and turns
// decoding errors into Invalid errors that say what was wrong.
func Bind(c echo.Context, v any) error {
	dec := jsonDecoder(c.Request().Body)
	if err := dec.Decode(v); err != nil {
		return errs.Wrap(errs.Invalid, err, "the request body is not valid JSON for this endpoint: %s", jsonErrorText(err))
	}
	return nil
}

// Metrics are the gateway's Prometheus metrics.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	CXMLRequests *prometheus.CounterVec
	// InvoiceDeliveries counts cXML invoice delivery attempts by outcome
	// (delivered, pending: to be retried, failed).
	InvoiceDeliveries *prometheus.CounterVec
}

// NewMetrics registers the metrics, with Go and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "punchout_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "punchout_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
		CXMLRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "punchout_cxml_requests_total", Help: "Inbound cXML documents by type, answered status code and whether the answer was replayed.",
		}, []string{"doc_type", "code", "replayed"}),
	}
	m.InvoiceDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "punchout_invoice_deliveries_total", Help: "cXML invoice delivery attempts by outcome: delivered, pending (to be retried) or failed.",
	}, []string{"outcome"})
	for _, o := range []string{"delivered", "pending", "failed"} {
		m.InvoiceDeliveries.WithLabelValues(o)
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.CXMLRequests, m.InvoiceDeliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeHTTP(method, route string, status int, took time.Duration) {
	m.httpRequests.WithLabelValues(method, route, fmt.Sprint(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}
