package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
)

// sentInvoice stores an invoice whose cXML delivery the buyer refused,
// as the deliverer leaves one (a test fixture: there is no API to make
// one directly).
func sentInvoice(t testing.TB, s *apptest.Server, id, org, status string) {
	t.Helper()
	doc := `<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="` + id + `@gateway"><Header><Sender><Credential domain="DUNS"><Identity>081254817</Identity><SharedSecret>[redacted]</SharedSecret></Credential></Sender></Header></cXML>`
	_, err := s.App.DB.W.ExecContext(context.Background(), s.App.DB.Rebind(`INSERT INTO invoices
		(id, organization_id, kind, bill_key, po_number, billing_period, period_start, period_end, invoice_date, total, currency,
		 delivery_status, delivery_attempts, last_error, payload_id, document, created_at)
		VALUES (?, ?, 'out_of_cycle', ?, 'PO-77', '2026-12', '2026-12-01', '2026-12-31', '2026-12-01', '40000.00', 'USD', ?, 1,
		 'Invoice line amount exceeds the PO line', ?, ?, ?)`), id, org, "test:"+id, status, id+"@gateway", []byte(doc), time.Now().UTC())
	require.NoError(t, err)
}

// TestInvoicePages: the invoices of the person's organization, filtered
// by delivery status; an invoice's page with the buyer's last answer and
// the cXML as sent; Resend for a failed one (billing and up), audited;
// another organization's invoice is answered 404.
func TestInvoicePages(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		o := newOther(t, s)
		sentInvoice(t, s, "inv_demo_failed", app.DemoOrganizationID, "failed")
		sentInvoice(t, s, "inv_demo_delivered", app.DemoOrganizationID, "delivered")
		sentInvoice(t, s, "inv_other_failed", o.org, "failed")
		newUser(t, s, "vera@demo.example", "Vera Viewer", "viewer", password)
		login := func(email, pw string) *browser {
			b := newBrowser(t, s)
			require.Equal(t, http.StatusOK, b.login(email, pw).status)
			return b
		}
		viewer, billing, other := login("vera@demo.example", password), login(app.DemoBillingEmail, app.DemoBillingPassword), login("olga@other.example", password)

		got := viewer.get("/admin/invoices")
		assert.Contains(t, got.body, "inv_demo_failed")
		assert.Contains(t, got.body, "inv_demo_delivered")
		assert.NotContains(t, got.body, "inv_other_failed")
		got = viewer.get("/admin/invoices?delivery_status=failed")
		assert.Contains(t, got.body, "inv_demo_failed")
		assert.NotContains(t, got.body, "inv_demo_delivered")
		got = viewer.get("/admin/invoices?delivery_status=lost")
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.body, "delivery_status must be pending, delivered, failed or not_applicable")

		got = viewer.get("/admin/invoices/inv_demo_failed")
		require.Equal(t, http.StatusOK, got.status)
		assert.Contains(t, got.body, "Invoice line amount exceeds the PO line")
		assert.Contains(t, got.body, "&lt;SharedSecret&gt;[redacted]&lt;/SharedSecret&gt;", "the cXML as sent, secret removed")
		assert.NotContains(t, got.body, ">Resend</button>", "a viewer may not resend")
		assert.Equal(t, http.StatusForbidden, viewer.post("/admin/invoices/inv_demo_failed/resend", nil).status)
		assert.NotContains(t, billing.get("/admin/invoices/inv_demo_delivered").body, ">Resend</button>", "only a failed one")

		got = billing.get("/admin/invoices/inv_demo_failed")
		assert.Contains(t, got.body, ">Resend</button>")
		got = billing.post("/admin/invoices/inv_demo_failed/resend", url.Values{})
		require.Equal(t, http.StatusOK, got.status, got.body)
		assert.Contains(t, got.body, "The invoice is queued to be sent again")

		for _, path := range []string{"/admin/invoices/inv_demo_failed", "/admin/invoices/inv_nobody"} {
			got = other.get(path)
			assert.Equal(t, http.StatusNotFound, got.status, path)
			assert.Contains(t, got.body, "not found")
		}
		assert.Equal(t, http.StatusNotFound, other.post("/admin/invoices/inv_demo_failed/resend", nil).status)
		assert.Equal(t, http.StatusOK, other.get("/admin/invoices/inv_other_failed").status)

		n := 0
		for _, e := range audit(t, s) {
			if e.Action == "invoice.resend" && e.ObjectID == "inv_demo_failed" {
				n++
				assert.Equal(t, "user", e.Actor.Kind)
			}
		}
		assert.Equal(t, 1, n, "the resend is audited under the person")
	})
}
