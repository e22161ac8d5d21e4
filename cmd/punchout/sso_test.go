package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/dbtest"
)

// TestServeSSO: the --oidc-* flags go together; given in the
// environment, they offer single sign-on through the provider, the demo
// admin signs in through it, and the client secret is in no log line.
func TestServeSSO(t *testing.T) {
	dir := t.TempDir()
	err := run(context.Background(), []string{"serve", "--db", dbtest.SQLiteDSN(t), "--key-file", filepath.Join(dir, "k"),
		"--oidc-issuer", "https://login.example", "--oidc-client-id", "gateway"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "--oidc-issuer, --oidc-client-id and --oidc-client-secret go together")

	m, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown() })
	t.Setenv("PUNCHOUT_OIDC_ISSUER", m.Issuer())
	t.Setenv("PUNCHOUT_OIDC_CLIENT_ID", m.ClientID)
	t.Setenv("PUNCHOUT_OIDC_CLIENT_SECRET", m.ClientSecret)

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--log-level", "debug", "--addr", addr, "--db", dbtest.SQLiteDSN(t), "--key-file", filepath.Join(dir, "k")}, &bytes.Buffer{}, &stderr)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 20*time.Second, 50*time.Millisecond, "server did not become ready: %s", stderr.String())

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, get("/admin/login"), "Sign in with SSO")
	m.QueueUser(&mockoidc.MockUser{Subject: "dana", Email: "admin@democorp.example", EmailVerified: true})
	assert.Contains(t, get("/admin/oidc/start"), "Signed in as Dana Admin (admin) of Demo Corp")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(35 * time.Second):
		t.Fatal("serve did not shut down")
	}
	logs := stderr.String()
	assert.Contains(t, logs, `"path":"/admin/oidc/callback"`, "the log is there")
	assert.NotContains(t, logs, m.ClientSecret, "the client secret is in no log line")
}
