package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/punchout"
)

// The demo connections restrict carts to their systems' hosts, and a demo
// database seeded before they did gets the lists on the next start, while
// a list an admin set is kept.
func TestDemoConnectionsHaveAllowLists(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		ctx := context.Background()
		hosts := func(id string) []string {
			t.Helper()
			c, err := s.App.Connections.Get(ctx, id)
			require.NoError(t, err)
			return c.AllowedFormPostHosts
		}
		assert.Equal(t, []string{"demo.coupahost.com", "127.0.0.1", "::1", "localhost"}, hosts(app.DemoCoupaID))
		assert.Equal(t, []string{"ariba.com", "127.0.0.1", "::1", "localhost"}, hosts(app.DemoAribaID))
		for _, c := range app.DemoConnections() {
			conn := c
			require.NoError(t, conn.Validate())
			for _, u := range map[punchout.System][]string{
				punchout.Coupa: {"https://demo.coupahost.com/punchout/checkout?id=27"},
				punchout.Ariba: {"https://service.ariba.com/Buyer.aw/109553001/aw?awh=r&awssk=hY2sVmdE&dard=1", "https://s1.ariba.com/Buyer/Main"},
			}[c.System] {
				assert.True(t, conn.CheckFormPost(u) == nil, "%s allows %s", c.ID, u)
			}
			assert.True(t, conn.CheckFormPost("http://127.0.0.1:43117/punchout/checkout?id=27") == nil, "the tests' stand-in buyer")
			assert.False(t, conn.CheckFormPost("https://evil.example/collect") == nil)
		}

		// A database seeded before the lists existed, and an admin's own list.
		_, err := s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE connections SET allowed_form_post_hosts = '' WHERE id = ?`), app.DemoCoupaID)
		require.NoError(t, err)
		_, err = s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE connections SET allowed_form_post_hosts = 'buyer.example' WHERE id = ?`), app.DemoAribaID)
		require.NoError(t, err)
		for range 2 {
			require.NoError(t, app.SeedDemo(ctx, s.App))
			assert.Equal(t, []string{"demo.coupahost.com", "127.0.0.1", "::1", "localhost"}, hosts(app.DemoCoupaID))
			assert.Equal(t, []string{"buyer.example"}, hosts(app.DemoAribaID))
		}
	})
}
