package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
)

// TestHomeAttention: the home page names what needs attention in the
// person's organization and nothing of another's: a failed invoice
// delivery with the buyer's answer, a PO that expires this month, the
// demo's private offer that expires within 30 days, and a connection
// whose document was refused in the last day. An operator sees an
// organization's when they pick it.
func TestHomeAttention(t *testing.T) {
	// One clock for both engines: the second run starts where the first
	// left it, a day later, still in December 2030.
	clock := apptest.NewClock(time.Date(2030, 12, 10, 9, 0, 0, 0, time.UTC))
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		o := newOther(t, s)
		b := newBrowser(t, s)
		require.Equal(t, http.StatusOK, b.login(app.DemoAdminEmail, app.DemoAdminPassword).status)
		got := b.get("/admin")
		assert.Contains(t, got.body, "Private offers expiring soon")
		assert.Contains(t, got.body, "offer-ledgerflow-private-fps", "the demo's private offer expires 2030-12-31")
		assert.NotContains(t, got.body, "PO-EXPIRING")

		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
			"id": "PO-EXPIRING", "organization_id": app.DemoOrganizationID, "bill_from": "AWS Inc.",
			"effective_month": "2030-01", "expiration_month": "2030-12",
			"line_items": []map[string]any{{"type": "all", "start_month": "2030-01", "end_month": "2030-12", "amount": "1000.00"}},
		}, nil))
		for _, inv := range []struct{ id, org string }{{"inv_failed_demo", app.DemoOrganizationID}, {"inv_failed_other", o.org}} {
			_, err := s.App.DB.W.ExecContext(context.Background(), s.App.DB.Rebind(`INSERT INTO invoices
				(id, organization_id, kind, bill_key, po_number, billing_period, period_start, period_end, invoice_date, total, currency,
				 delivery_status, delivery_attempts, last_error, created_at)
				VALUES (?, ?, 'out_of_cycle', ?, 'PO-77', '2030-12', '2030-12-01', '2030-12-31', '2030-12-01', '40000.00', 'USD', 'failed', 3,
				 'Invoice line amount exceeds the PO line', ?)`), inv.id, inv.org, "test:"+inv.id, clock.Now())
			require.NoError(t, err)
		}
		fixture, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "cxml", "coupa_punchoutsetuprequest_production_2024.xml"))
		require.NoError(t, err)
		i, j := bytes.Index(fixture, []byte("<BrowserFormPost>")), bytes.Index(fixture, []byte("</BrowserFormPost>"))
		require.True(t, i > 0 && j > i)
		refused := append(append(append([]byte{}, fixture[:i]...), "<BrowserFormPost><URL>https://elsewhere.example/cart</URL>"...), fixture[j:]...)
		_, doc := s.PostCXML(t, refused)
		require.Equal(t, 403, doc.Response.Status.Code, "a cart address outside the allow-list")

		got = b.get("/admin")
		require.Equal(t, http.StatusOK, got.status)
		for _, want := range []string{
			"inv_failed_demo", "Invoice line amount exceeds the PO line", "attempts: 3",
			"PO-EXPIRING", fmt.Sprintf("expires at the end of 2030-12, in %d days", int(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Sub(clock.Now()).Hours()/24)),
			"offer-ledgerflow-private-fps",
			`<a href="/admin/connections/conn_demo_coupa">Demo Corp Coupa</a>`,
		} {
			assert.Contains(t, got.body, want)
		}
		assert.NotContains(t, got.body, "inv_failed_other", "another organization's")
		assert.NotContains(t, got.body, "Nothing needs attention")
		list := b.get("/admin/connections")
		assert.Contains(t, list.body, `<span class="badge bad">1</span>`, "errors in the last day")

		clock.Advance(25 * time.Hour)
		got = b.get("/admin")
		assert.NotContains(t, got.body, `<a href="/admin/connections/conn_demo_coupa">`, "a day later, no error in the last day")

		op := newBrowser(t, s)
		require.Equal(t, http.StatusOK, op.login("otto@marketplace.example", password).status)
		got = op.get("/admin?organization_id=" + o.org)
		assert.Contains(t, got.body, "inv_failed_other")
		assert.NotContains(t, got.body, "inv_failed_demo")
		assert.Contains(t, op.get("/admin").body, "inv_failed_demo", "every organization")
	}, apptest.WithClock(clock))
}
