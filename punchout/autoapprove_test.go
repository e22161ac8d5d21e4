package punchout_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/punchout"
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

// An auto-approval that lost a race with its session's checkout (the page
// saw the session open, the cart went back before the subscription's
// transaction) subscribes nothing: the transaction checks the session
// again.
func TestAutoApprovalAfterReturnSubscribesNothing(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		ctx := context.Background()
		start := startPage(t, s, setupRequest("ariba", "sub-race@x", "create", "ck-sub-race", aribaBuyerURL, ""))
		sess, err := s.App.Sessions.Get(ctx, s.App.DB.R, sessionID(start))
		require.NoError(t, err)
		conn, err := s.App.Connections.Get(ctx, sess.ConnectionID)
		require.NoError(t, err)
		newShopper(t).checkout(start) // the session, as sess still shows it, is open
		before := count(t, s, "agreements")
		auto := &punchout.AutoApprovals{DB: s.App.DB, Sessions: s.App.Sessions,
			Catalog: s.App.Catalog, Agreements: s.App.Agreements, Mail: s.App.Mail, Now: s.App.Config.Now}
		_, _, _, err = auto.Subscribe(ctx, sess, conn, "offer-teamchat-free")
		assert.ErrorIs(t, err, punchout.ErrCartReturned)
		assert.True(t, errs.Is(err, errs.Conflict))
		assert.Equal(t, before, count(t, s, "agreements"))
	})
}
