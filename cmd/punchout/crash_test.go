package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/punchout"
)

// TestMain lets the test binary be the punchout command, so the crash
// test can run the real server in a process of its own and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("PUNCHOUT_BE_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

var payloadIDRe = regexp.MustCompile(`payloadID="([^"]+)"`)

// TestInvoiceDeliverySurvivesSIGKILL bills 40 invoices for a Coupa
// connection with e-invoicing, lets the server deliver them to a stand-in
// for Coupa, kills the server with SIGKILL in the middle, starts it again
// and checks that every invoice arrived, each with the same bytes every
// time it was sent, on each engine.
func TestInvoiceDeliverySurvivesSIGKILL(t *testing.T) {
	for name, dsn := range dbtest.DSNs(t) {
		t.Run(name, func(t *testing.T) { survivesSIGKILL(t, dsn(t)) })
	}
}

func survivesSIGKILL(t *testing.T, dsn string) {
	const n = 40
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))

	// The stand-in behaves like Coupa: it accepts an invoice number once
	// and refuses it after that with 417.
	var mu sync.Mutex
	received := map[string][][]byte{} // payloadID -> bodies
	accepted := map[string]int{}
	var arrived atomic.Int32
	coupa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived.Add(1)
		time.Sleep(40 * time.Millisecond) // A buyer that takes its time.
		status := `<Status code="200" text="OK"/>`
		if m := payloadIDRe.FindSubmatch(b); m != nil {
			mu.Lock()
			id := string(m[1])
			received[id] = append(received[id], b)
			if accepted[id] > 0 {
				status = `<Status code="417" text="Expectation Failed">the invoice number has already been used for this supplier</Status>`
			} else {
				accepted[id]++
			}
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<?xml version="1.0"?><cXML payloadID="ack@coupa" timestamp="2026-11-23T00:00:00Z"><Response>`+status+`</Response></cXML>`)
	}))
	defer coupa.Close()
	distinct := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(received)
	}

	// Data: a connection with e-invoicing and n upfront agreements, billed.
	ctx := context.Background()
	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DB: dsn, Demo: true, SecretKey: key, NoWorkers: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	conn := &punchout.Connection{
		OrganizationID: "org_demo", Name: "Coupa invoices", System: punchout.Coupa,
		BuyerCredential:    punchout.Credential{Domain: "NetworkID", Identity: "CrashCoupa"},
		SupplierCredential: punchout.Credential{Domain: "DUNS", Identity: "081254817"},
		SharedSecret:       "crash-secret-1",
		EInvoice:           punchout.EInvoice{Enabled: true, Endpoint: coupa.URL + "/cxml/invoices", SharedSecret: "invoice-secret"},
	}
	require.NoError(t, a.Connections.Create(ctx, conn))
	_, offer, err := a.Catalog.GetOffer(ctx, nil, "offer-cloudsight-annual-contract")
	require.NoError(t, err)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	require.NoError(t, a.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		for i := range n {
			ref, po := fmt.Sprintf("ord_%d", i), fmt.Sprintf("PO-CRASH-%d", i%5)
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO orders (id, organization_id, connection_id, order_id, po_number, type, source,
				payload_id, revises, order_date, created_at) VALUES (?, 'org_demo', ?, ?, ?, 'new', 'cxml', ?, NULL, ?, ?)`),
				ref, conn.ID, ref, po, ref, start, start); err != nil {
				return err
			}
			if _, err := a.Agreements.Create(ctx, tx, invoicing.NewAgreement{OrganizationID: "org_demo", ConnectionID: conn.ID,
				OrderRef: ref, OrderID: ref, LineNumber: 1, Offer: offer, Start: start, PONumber: po}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, a.Close())
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"bill", "--db", dsn, "--secret-key", key, "--through", "2026-11-30"}, &out, &out))
	require.Contains(t, out.String(), fmt.Sprintf("%d out-of-cycle invoices", n))

	serve := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "serve", "--addr", freeAddr(t), "--db", dsn, "--secret-key", key, "--job-rescue-after", "3s", "--log-format", "text")
		cmd.Env = append(os.Environ(), "PUNCHOUT_BE_MAIN=1")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		require.NoError(t, cmd.Start())
		return cmd
	}
	first := serve()
	// Killed while posts are in flight: the 8th has arrived and waits for
	// its answer.
	require.Eventually(t, func() bool { return arrived.Load() >= 8 }, 30*time.Second, time.Millisecond, "deliveries started")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	atKill := distinct()
	require.Less(t, atKill, n, "the server was killed in the middle of the run")

	second := serve()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	d, err := db.Open(ctx, dsn)
	require.NoError(t, err)
	defer d.Close()
	require.Eventually(t, func() bool {
		var pending int
		_ = d.R.Get(&pending, `SELECT COUNT(*) FROM invoices WHERE delivery_status <> 'delivered'`)
		return pending == 0
	}, 120*time.Second, 100*time.Millisecond, "every invoice is delivered after the restart")

	var total, delivered int
	require.NoError(t, d.R.Get(&total, `SELECT COUNT(*) FROM invoices`))
	require.NoError(t, d.R.Get(&delivered, `SELECT COUNT(*) FROM invoices WHERE delivery_status = 'delivered'`))
	assert.Equal(t, n, total, "no invoice lost")
	assert.Equal(t, n, delivered, "every invoice delivered, none parked")
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, accepted, n, "every invoice reached the buyer")
	for id, times := range accepted {
		assert.Equal(t, 1, times, "the buyer accepted %s once", id)
	}
	resent := 0
	for id, bodies := range received {
		for _, b := range bodies[1:] {
			assert.Equal(t, string(bodies[0]), string(b), "a resend of %s is byte-identical", id)
		}
		resent += len(bodies) - 1
	}
	// An invoice that was being sent when the process died is sent again
	// with the same payloadID and invoice number; the buyer refuses the
	// number it already has, and the gateway counts that as delivered.
	// The invoices queue posts up to 4 at once (jobs.New).
	assert.LessOrEqual(t, resent, 4, "only invoices in flight at the kill are sent again")
	t.Logf("delivered %d invoices; %d before the kill; %d in flight resent after it", n, atKill, resent)
}
