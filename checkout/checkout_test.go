package checkout_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/invoicing"
)

func TestPOEntryAtCheckout(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		var org struct{ ID string }
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Checkout Co", "po_mode": "checkout"}, &org))
		sub := func(offer, po string) (int, map[string]any) {
			var out map[string]any
			code := s.API(t, "POST", "/api/v1/subscriptions", map[string]string{
				"organization_id": org.ID, "offer_id": offer, "po_number": po, "subscriber_email": "ops@checkout.example",
			}, &out)
			return code, out
		}
		code, out := sub("offer-cloudsight-annual-contract", "CHK-"+strings.Repeat("7", 196))
		require.Equal(t, 201, code, out)
		assert.Equal(t, "CHK-"+strings.Repeat("7", 196), out["po_number"], "a PO number of 200 characters")
		code, _ = sub("offer-migration-assessment", "CHK-1")
		assert.Equal(t, 201, code, "professional services may be bought with a PO at checkout")
		code, _ = sub("offer-hardened-linux-annual", "CHK-1")
		assert.Equal(t, 201, code, "server products with annual pricing")
		code, out = sub("offer-cloudsight-payg", "CHK-1")
		assert.Equal(t, 403, code, "PAYG is not eligible: %v", out)
		code, out = sub("offer-teamchat-free", "CHK-1")
		assert.Equal(t, 403, code, "free SaaS is not a contract: %v", out)
		code, out = sub("offer-cloudsight-annual-contract", strings.Repeat("x", 201))
		assert.Equal(t, 400, code, "%v", out)

		var po invoicing.PurchaseOrder
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/CHK-1?organization_id="+org.ID, nil, &po))
		assert.Len(t, po.LineItems, 2, "the same PO rules apply: one marketplace line item per contract")

		// Each subscriber is told, in the mail orders send.
		var outbox struct {
			Messages []struct{ To, Subject, Body string }
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id="+org.ID, nil, &outbox))
		require.Len(t, outbox.Messages, 3)
		for _, m := range outbox.Messages {
			assert.Equal(t, "ops@checkout.example", m.To)
			assert.Contains(t, m.Subject, "is active")
			assert.Contains(t, m.Body, "PO number:      CHK-")
		}

		// An organization integrated with its procurement system does not
		// take PO numbers at checkout.
		var e struct{ Error struct{ Message string } }
		assert.Equal(t, 409, s.API(t, "POST", "/api/v1/subscriptions", map[string]string{
			"organization_id": "org_demo", "offer_id": "offer-cloudsight-annual-contract", "po_number": "X"}, &e))
		assert.Contains(t, e.Error.Message, "never both")
	})
}
