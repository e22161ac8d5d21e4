package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// syncBuffer is a log sink that handlers write to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogKeepsNoSecret starts the demo without an admin token, uses the
// demo token and a wrong one, and posts a document with a shared secret:
// neither token nor secret reaches the log, and fields a client controls
// are cut to a bounded length.
func TestLogKeepsNoSecret(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), app.Config{
		DB: dbtest.SQLiteDSN(t), Demo: true, NoWorkers: true,
		SecretKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)),
	}, log)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	for _, token := range []string{app.DemoAdminToken, "wrong-token-value"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/connections", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	long := strings.Repeat("P", 100_000)
	doc := `<cXML payloadID="` + long + `" timestamp="2024-01-01T00:00:00Z"><Header><From><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity></Credential></From>` +
		`<To><Credential domain="DUNS"><Identity>081254817</Identity></Credential></To><Sender><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity>` +
		`<SharedSecret>` + app.DemoCoupaSecret + `</SharedSecret></Credential></Sender></Header><Request><` + strings.Repeat("R", 100_000) + `/></Request></cXML>`
	resp, err := http.Post(srv.URL+"/cxml/"+strings.Repeat("x", 10_000), "text/xml", strings.NewReader(doc))
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Post(srv.URL+"/cxml", "text/xml", strings.NewReader(doc))
	require.NoError(t, err)
	resp.Body.Close()

	srv.Close() // waits for the handlers, and their log lines
	out := logs.String()
	assert.Contains(t, out, "demo admin token")
	for _, secret := range []string{app.DemoAdminToken, "wrong-token-value", app.DemoCoupaSecret} {
		assert.NotContains(t, out, secret)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		assert.Less(t, len(line), 2048, "a log line: %.200s", line)
	}
}
