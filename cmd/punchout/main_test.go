package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/dbtest"
)

// syncBuffer is a bytes.Buffer the server goroutine writes while the
// test reads it.
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

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeDemoAndShutDown runs `punchout serve --demo` in-process, as a
// user would, checks it answers, then stops it the way SIGTERM does.
func TestServeDemoAndShutDown(t *testing.T) {
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			// dsn may skip the test; it must run here, not in the server's
			// goroutine.
			db := dsn(t)
			ctx, cancel := context.WithCancel(context.Background())
			var stderr syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--demo", "--addr", addr, "--db", db, "--key-file", filepath.Join(dir, "k")}, &bytes.Buffer{}, &stderr)
			}()
			require.Eventually(t, func() bool {
				resp, err := http.Get("http://" + addr + "/readyz")
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == 200
			}, 20*time.Second, 50*time.Millisecond, "server did not become ready: %s", stderr.String())

			req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/connections", nil)
			req.Header.Set("Authorization", "Bearer demo-admin-token")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			var list struct{ Connections []map[string]any }
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
			resp.Body.Close()
			assert.Len(t, list.Connections, 2)

			resp, err = http.Get("http://" + addr + "/metrics")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)

			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(35 * time.Second):
				t.Fatal("serve did not shut down")
			}
			assert.Contains(t, stderr.String(), `"msg":"shutting down"`)
			_, err = os.Stat(filepath.Join(dir, "k"))
			assert.NoError(t, err, "the server key file was created")
		})
	}
}

func TestCatalogImportAndMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.SQLiteDSN(t)
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate", "--db", dsn}, &out, &out))
	assert.Contains(t, out.String(), "up to date")

	file := filepath.Join(t.TempDir(), "catalog.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"products": [{"id": "p1", "name": "One", "vendor": "V", "type": "saas", "unspsc": "43232300", "description": "d"}],
		"offers": [{"id": "o1", "product_id": "p1", "pricing_model": "free", "currency": "USD", "revision": 1}]}`), 0o600))
	out.Reset()
	require.NoError(t, run(ctx, []string{"catalog", "import", "--db", dsn, file}, &out, &out))
	assert.Contains(t, out.String(), "1 products created")
	out.Reset()
	require.NoError(t, run(ctx, []string{"catalog", "import", "--db", dsn, file}, &out, &out))
	assert.Contains(t, out.String(), "1 unchanged")

	t.Setenv("PUNCHOUT_DB", dsn)
	out.Reset()
	require.NoError(t, run(ctx, []string{"catalog", "import", file}, &out, &out), "PUNCHOUT_DB is honoured")

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"offers": [{"id": "o2", "product_id": "nope", "pricing_model": "free", "currency": "USD"}]}`), 0o600))
	err := run(ctx, []string{"catalog", "import", "--db", dsn, bad}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "product nope")
}

func TestBillCommand(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			var out bytes.Buffer
			key := filepath.Join(t.TempDir(), "k")
			require.NoError(t, run(ctx, []string{"migrate", "--db", dsn}, &out, &out))
			require.NoError(t, run(ctx, []string{"bill", "--db", dsn, "--key-file", key, "--through", "2026-11-30"}, &out, &out))
			assert.Contains(t, out.String(), "billed through 2026-11-30: 0 out-of-cycle invoices, 0 monthly invoices")
			err := run(ctx, []string{"bill", "--db", dsn, "--key-file", key, "--through", "30/11/2026"}, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "YYYY-MM-DD")
		})
	}
}

// Every subcommand but serve and migrate refuses a database that does
// not exist or has no gateway tables, instead of creating an empty one
// and doing nothing successfully; it creates nothing, not even the key
// file.
func TestSubcommandsRefuseAWrongDatabase(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "catalog.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"products": [], "offers": []}`), 0o600))
	wrong := map[string]func(t testing.TB) string{
		"sqlite: no such file":        func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "typo.db") },
		"postgres: no gateway tables": dbtest.PostgresDSN,
	}
	for name, dsn := range wrong {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			dir := t.TempDir()
			key := filepath.Join(dir, "k")
			for _, args := range [][]string{
				{"bill", "--db", dsn, "--key-file", key, "--through", "2026-11-30"},
				{"catalog", "import", "--db", dsn, file},
			} {
				var out bytes.Buffer
				err := run(ctx, args, &out, &out)
				require.Error(t, err, "%s", args[0])
				assert.Contains(t, err.Error(), "check --db or PUNCHOUT_DB")
				assert.Contains(t, err.Error(), "punchout migrate --db")
				assert.Empty(t, out.String(), "nothing done")
			}
			_, err := os.Stat(key)
			assert.ErrorIs(t, err, os.ErrNotExist, "no key file created")
			if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
				_, err := os.Stat(path)
				assert.ErrorIs(t, err, os.ErrNotExist, "no database file created")
			}

			// migrate sets the database up; then the same commands run.
			var out bytes.Buffer
			require.NoError(t, run(ctx, []string{"migrate", "--db", dsn}, &out, &out))
			require.NoError(t, run(ctx, []string{"bill", "--db", dsn, "--key-file", key, "--through", "2026-11-30"}, &out, &out))
			require.NoError(t, run(ctx, []string{"catalog", "import", "--db", dsn, file}, &out, &out))
		})
	}
}
