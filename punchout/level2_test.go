package punchout_test

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/fixtures"
	"github.com/cxmlgate/punchout/internal/apptest"
)

func fixtureBody(t *testing.T, name string) []byte {
	t.Helper()
	for _, f := range fixtures.All() {
		if f.Name == name {
			return fixtures.Read(f)
		}
	}
	t.Fatalf("no fixture %s", name)
	return nil
}

// A Level-2 punchout (SAP Ariba's catalog items pointing into it) starts
// on the selected item's product page; an item the catalog does not hold
// starts on the catalog, with a note naming it.
func TestLevel2PunchoutOpensTheSelectedItem(t *testing.T) {
	selected := func(part string) string {
		return `<SelectedItem><ItemID><SupplierPartID>` + part + `</SupplierPartID><BuyerPartID>II99826</BuyerPartID></ItemID></SelectedItem>`
	}
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		// Another organization, whose catalog lacks Demo Corp's private offer.
		var other struct{ ID string }
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Other Corp", "po_mode": "procurement_system"}, &other))
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
			"organization_id": other.ID, "name": "Other Coupa", "system": "coupa",
			"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "OtherCorpCoupa"},
			"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
			"shared_secret":       "other-secret",
		}, nil))
		asOther := func(b []byte) []byte {
			return []byte(strings.NewReplacer("DemoCorpCoupa", "OtherCorpCoupa", "coupa-demo-secret", "other-secret").Replace(string(b)))
		}

		tests := []struct {
			name string
			body []byte
			// path is what the StartPage URL adds to the session's.
			path    string
			heading string
			note    string
		}{
			{"the fixture: a product", fixtureBody(t, "ariba_punchoutsetuprequest_selecteditem"),
				"/products/prod-cloudsight", "<h1 id=\"p-prod-cloudsight\">CloudSight Observability</h1>", ""},
			{"an offer, as cart lines name it", setupRequest("ariba", "l2-offer@ariba", "create", "ck-l2-1", aribaBuyerURL, selected("offer-teamchat-free")),
				"/products/prod-teamchat", "TeamChat", ""},
			{"an organization's private offer", setupRequest("coupa", "l2-private@coupa", "create", "ck-l2-2", buyerURL, selected("offer-ledgerflow-private-fps")),
				"/products/prod-ledgerflow", "LedgerFlow", ""},
			{"an unknown item", setupRequest("ariba", "l2-unknown@ariba", "create", "ck-l2-3", aribaBuyerURL, selected("SKU-4545321")),
				"?selected=SKU-4545321", "<h1>Catalog</h1>", "The item you chose in SAP Ariba (SKU-4545321) is not in this catalog, or no longer: here is the whole catalog to choose from."},
			{"another organization's private offer is unknown",
				asOther(setupRequest("coupa", "l2-foreign@coupa", "create", "ck-l2-4", buyerURL, selected("offer-ledgerflow-private-fps"))),
				"?selected=offer-ledgerflow-private-fps", "<h1>Catalog</h1>", "(offer-ledgerflow-private-fps) is not in this catalog"},
			{"no SupplierPartID: the catalog, without a note", setupRequest("ariba", "l2-empty@ariba", "create", "ck-l2-5", aribaBuyerURL, selected(" ")),
				"", "<h1>Catalog</h1>", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				start := startPage(t, s, tc.body)
				u, err := url.Parse(start)
				require.NoError(t, err)
				session := strings.SplitN(strings.TrimPrefix(u.Path, "/punchout/s/"), "/", 2)[0]
				assert.Equal(t, s.URL+"/punchout/s/"+session+tc.path, start)
				code, page := newShopper(t).get(start)
				require.Equal(t, 200, code, page)
				assert.Contains(t, page, tc.heading)
				if tc.note != "" {
					assert.Contains(t, html.UnescapeString(page), tc.note)
				} else {
					assert.NotContains(t, page, "is not in this catalog")
				}
				assert.Contains(t, page, `name="action" value=`, "offers may be requested from where the punchout starts")
			})
		}
	})
}
