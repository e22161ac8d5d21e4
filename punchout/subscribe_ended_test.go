package punchout_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/punchout"
)

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
		subs := &punchout.Subscriptions{DB: s.App.DB, Sessions: s.App.Sessions, Orgs: s.App.Organizations,
			Catalog: s.App.Catalog, Agreements: s.App.Agreements, Now: s.App.Config.Now}
		_, _, _, err = subs.AutoApprove(ctx, sess, conn, "offer-teamchat-free")
		assert.ErrorIs(t, err, punchout.ErrCartReturned)
		assert.True(t, errs.Is(err, errs.Conflict))
		assert.Equal(t, before, count(t, s, "agreements"))
	})
}
