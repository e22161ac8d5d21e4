// Package apptest starts the whole gateway in-process for end-to-end
// tests: a real database (SQLite in a temporary directory, or a fresh
// PostgreSQL schema), the demo data, and the real router behind an
// httptest server. Every cXML answer read through it is validated against
// the official DTD before the test sees it, and every admin API answer
// against api/openapi.yaml.
package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/cxmltest"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// Server is a gateway under test.
type Server struct {
	App  *app.App
	URL  string
	srv  *httptest.Server
	once sync.Once

	stopWorkers func()
}

// Option changes the configuration before the gateway starts.
type Option func(*app.Config)

// WithAuthFailureLimit sets the per-source limit of failed
// authentications.
func WithAuthFailureLimit(rate float64, burst int) Option {
	return func(c *app.Config) { c.AuthFailure = app.AuthFailureLimit{Rate: rate, Burst: burst} }
}

// Engines runs fn once per database engine, each with a fresh gateway.
func Engines(t *testing.T, fn func(t *testing.T, s *Server), opts ...Option) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Start(t, dbtest.SQLiteDSN(t), opts...)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Start(t, dbtest.PostgresDSN(t), opts...)) })
}

// Start runs a gateway with the demo data on dsn until the test ends.
func Start(t testing.TB, dsn string, opts ...Option) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := app.Config{
		Addr:       srv.Listener.Addr().String(),
		DB:         dsn,
		BaseURL:    "http://" + srv.Listener.Addr().String(),
		AdminToken: "test-admin-token",
		Demo:       true,
		SecretKey:  base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		// Tests send many refused documents from one address; only the
		// tests of throttling set a real limit (WithAuthFailureLimit).
		AuthFailure: app.AuthFailureLimit{Rate: 1e6, Burst: 1 << 30},
		// Jobs are picked up within 50 ms and a failed one is retried at
		// once (WaitJobs waits for them).
		JobPoll:        50 * time.Millisecond,
		JobRetryPolicy: retryAtOnce{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("PUNCHOUT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	a, err := app.New(context.Background(), cfg, log)
	require.NoError(t, err)
	srv.Config.Handler = a.Handler()
	srv.Start()
	wctx, stop := context.WithCancel(context.Background())
	wait := a.StartWorkers(wctx)
	s := &Server{App: a, URL: srv.URL, srv: srv, stopWorkers: func() { stop(); wait() }}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and closes its database; it is safe to call
// twice (tests that restart the gateway close it early).
func (s *Server) Close() {
	s.once.Do(func() {
		s.srv.Close()
		s.stopWorkers()
		s.App.Close()
	})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// PostCXML posts body to /cxml and returns the raw answer, after checking
// that it is a DTD-valid cXML document sent with HTTP 200, and its parse.
func (s *Server) PostCXML(t testing.TB, body []byte) ([]byte, *cxml.Document) {
	t.Helper()
	resp, err := http.Post(s.URL+"/cxml", "text/xml; charset=UTF-8", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "HTTP status of a cXML answer")
	require.Contains(t, resp.Header.Get("Content-Type"), "text/xml")
	cxmltest.Validate(t, out)
	doc, err := cxml.Parse(out, cxml.Limits{})
	require.NoError(t, err)
	require.NotNil(t, doc.Response, "the answer is a cXML Response")
	return out, doc
}

// API calls the admin API with the test token and decodes the JSON answer
// into out (when not nil). It returns the HTTP status. The answer is
// checked against api/openapi.yaml first (CheckAPIAnswer): a status,
// content type or body the description does not give fails the test.
func (s *Server) API(t testing.TB, method, path string, in, out any) int {
	t.Helper()
	return s.APIWithToken(t, "test-admin-token", method, path, in, out)
}

// APIWithToken is API with a chosen bearer token ("" for none).
func (s *Server) APIWithToken(t testing.TB, token, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if strings.HasPrefix(req.URL.Path, "/api/v1/") && req.URL.Path != "/api/v1/openapi.yaml" {
		CheckAPIAnswer(t, req, resp.StatusCode, resp.Header, raw)
	}
	if out != nil && len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, out), "decode %s", raw)
	}
	return resp.StatusCode
}

// ConformanceDir is the shared conformance folder (samples, DTDs, notes).
func ConformanceDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CXML_DTD_DIR"); d != "" {
		return filepath.Dir(d)
	}
	return cxmltest.DTDDir(t)
}
