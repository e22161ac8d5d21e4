package punchout_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/invoicing"
)

// The demo Ariba connection auto-approves free and BYOL offers; the demo
// Coupa connection does not.
func TestAutoApprovalSubscribesAtOnce(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		ariba := startPage(t, s, setupRequest("ariba", "auto-1@x", "create", "ck-auto", aribaBuyerURL, ""))
		sh := newShopper(t)
		code, page := sh.get(ariba)
		require.Equal(t, 200, code)
		assert.Contains(t, page, `<input type="hidden" name="offer_id" value="offer-securevpn-byol">`)
		form := page[strings.Index(page, `value="offer-securevpn-byol"`):]
		assert.Contains(t, form[:400], `value="subscribe"`, "BYOL shows Subscribe")
		paid := page[strings.Index(page, `value="offer-cloudsight-annual-contract"`):]
		assert.Contains(t, paid[:400], `value="request-approval"`, "paid offers still need approval")

		code, page = sh.post(ariba+"/cart", url.Values{"offer_id": {"offer-securevpn-byol"}, "action": {"subscribe"}})
		require.Equal(t, 200, code, page)
		assert.Contains(t, page, "You are subscribed to SecureVPN Gateway")
		code, _ = sh.post(ariba+"/cart", url.Values{"offer_id": {"offer-cloudsight-annual-contract"}, "action": {"subscribe"}})
		assert.Equal(t, http.StatusForbidden, code, "only free and BYOL offers are auto-approved")

		var list struct{ Agreements []invoicing.Agreement }
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo", nil, &list))
		require.Len(t, list.Agreements, 1)
		a := list.Agreements[0]
		assert.Equal(t, "offer-securevpn-byol", a.OfferID)
		assert.Equal(t, "byol", a.PricingModel)
		assert.Empty(t, a.PONumber, "no round trip, no PO number")
		assert.Equal(t, "vitaly@democorp.example", a.SubscriberEmail)
		assert.Equal(t, 1, count(t, s, "outbox_mail"))

		// The Coupa connection does not auto-approve.
		coupa := startPage(t, s, setupRequest("coupa", "auto-2@x", "create", "ck-auto2", buyerURL, ""))
		code, page = sh.get(coupa)
		require.Equal(t, 200, code)
		form = page[strings.Index(page, `value="offer-securevpn-byol"`):]
		assert.Contains(t, form[:400], `value="request-approval"`)
		code, _ = sh.post(coupa+"/cart", url.Values{"offer_id": {"offer-securevpn-byol"}, "action": {"subscribe"}})
		assert.Equal(t, http.StatusForbidden, code)
		assert.Equal(t, 1, count(t, s, "agreements"))
	})
}

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

		// An organization integrated with its procurement system does not
		// take PO numbers at checkout.
		var e struct{ Error struct{ Message string } }
		assert.Equal(t, 409, s.API(t, "POST", "/api/v1/subscriptions", map[string]string{
			"organization_id": "org_demo", "offer_id": "offer-cloudsight-annual-contract", "po_number": "X"}, &e))
		assert.Contains(t, e.Error.Message, "never both")
	})
}
