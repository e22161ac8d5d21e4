package punchout_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

// aribaBuyerURL is a BrowserFormPost URL on one of the demo Ariba
// connection's allowed hosts.
const aribaBuyerURL = "https://service.ariba.com/Buyer.aw/109553001/aw?awh=r&amp;awssk=hY2sVmdE&amp;dard=1"

// buyerURLFor is a BrowserFormPost URL the demo connection of system
// allows.
func buyerURLFor(system string) string {
	if system == "ariba" {
		return aribaBuyerURL
	}
	return buyerURL
}

// sessionID is the session ID a StartPage URL's token names.
func sessionID(start string) string {
	id, _, _ := strings.Cut(start[strings.LastIndex(start, "/")+1:], ".")
	return id
}

func returnedCarts(t testing.TB, s *apptest.Server) int {
	t.Helper()
	var n int
	require.NoError(t, s.App.DB.R.Get(&n, `SELECT COUNT(*) FROM exchanges WHERE direction = 'out' AND doc_type = 'PunchOutOrderMessage'`))
	return n
}

func cartItems(t testing.TB, s *apptest.Server, start string) []string {
	t.Helper()
	var offers []string
	require.NoError(t, s.App.DB.R.Select(&offers, s.App.DB.Rebind(`SELECT offer_id FROM cart_items WHERE session_id = ? ORDER BY offer_id`), sessionID(start)))
	return offers
}

// A create or edit session ends when its cart is returned: every page of
// its token then says where the cart went and how to change it, and every
// change is refused with that page and changes nothing.
func TestReturnedSessionEnds(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		for _, tc := range []struct {
			system, operation, systemName, next string
		}{
			{"coupa", "create", "Coupa", "open the requisition in Coupa and edit the cart there"},
			{"ariba", "create", "SAP Ariba", "open the requisition in SAP Ariba and edit the cart there"},
			{"ariba", "edit", "SAP Ariba", "open the requisition in SAP Ariba and edit the cart again"},
		} {
			t.Run(tc.system+" "+tc.operation, func(t *testing.T) {
				itemOut := ""
				if tc.operation == "edit" {
					itemOut = `<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>offer-cloudsight-annual-contract</SupplierPartID></ItemID></ItemOut>`
				}
				start := startPage(t, s, setupRequest(tc.system, "ended-"+tc.system+"-"+tc.operation+"@x", tc.operation, "ck-ended", buyerURLFor(tc.system), itemOut))
				sh := newShopper(t)
				code, page := sh.request(start, "offer-cloudsight-payg")
				require.Equal(t, http.StatusOK, code, page)
				sh.checkout(start)
				carts, items := returnedCarts(t, s), cartItems(t, s, start)
				agreements := count(t, s, "agreements")

				for _, route := range []struct {
					name, method, path string
					form               url.Values
				}{
					{"start page", "GET", "", nil},
					{"search", "GET", "?q=cloud", nil},
					{"product", "GET", "/products/prod-cloudsight", nil},
					{"cart", "GET", "/cart", nil},
					{"add", "POST", "/cart", url.Values{"offer_id": {"offer-teamchat-free"}, "action": {"request-approval"}}},
					{"subscribe", "POST", "/cart", url.Values{"offer_id": {"offer-securevpn-byol"}, "action": {"subscribe"}}},
					{"remove", "POST", "/cart/remove", url.Values{"offer_id": {"offer-cloudsight-payg"}, "action": {"remove"}}},
					{"checkout", "POST", "/checkout", url.Values{"action": {"checkout"}}},
				} {
					t.Run(route.name, func(t *testing.T) {
						var code int
						var page string
						if route.method == "GET" {
							code, page = sh.get(start + route.path)
						} else {
							code, page = sh.post(start+route.path, route.form)
						}
						assert.Equal(t, http.StatusConflict, code)
						assert.Contains(t, page, "Your cart went back to "+tc.systemName)
						assert.Contains(t, page, "This punchout session ended when its cart was returned to "+tc.systemName)
						assert.Contains(t, page, tc.next)
						assert.NotContains(t, page, `name="action"`, "the page offers nothing to press")
						assert.NotContains(t, page, "cxml-", "no cart goes out")
					})
				}
				assert.Equal(t, carts, returnedCarts(t, s), "the cart went back once")
				assert.Equal(t, items, cartItems(t, s, start), "the cart did not change")
				assert.Equal(t, agreements, count(t, s, "agreements"), "nothing was subscribed")
			})
		}

		// An inspect session only shows its cart: it may be shown and
		// returned again, as before.
		t.Run("inspect", func(t *testing.T) {
			lines := `<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>offer-cloudsight-annual-contract</SupplierPartID></ItemID></ItemOut>`
			inspect := startPage(t, s, setupRequest("ariba", "ended-inspect@x", "inspect", "ck-inspect", aribaBuyerURL, lines))
			sh := newShopper(t)
			for range 2 {
				_, _, doc := sh.checkout(inspect)
				assert.Equal(t, "inspect", poom(t, doc).OperationAllowed)
				code, page := sh.get(inspect + "/cart")
				assert.Equal(t, http.StatusOK, code)
				assert.Contains(t, page, "CloudSight Observability")
			}
		})
	})
}

// A cart goes back once however many checkouts of it race, and a change
// racing a checkout either makes it into the returned cart or is refused:
// the check and the mark happen in one transaction.
func TestConcurrentCheckoutsReturnTheCartOnce(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		const sessions, checkouts = 4, 4
		client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		post := func(u string, form url.Values) (int, string) {
			resp, err := client.PostForm(u, form)
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		before := returnedCarts(t, s)
		for i := range sessions {
			start := startPage(t, s, setupRequest("coupa", "race-"+string(rune('a'+i))+"@x", "create", "ck-race", buyerURL, ""))
			code, page := newShopper(t).request(start, "offer-cloudsight-payg")
			require.Equal(t, http.StatusOK, code, page)

			type answer struct {
				code int
				page string
			}
			answers := make([]answer, checkouts)
			var added answer
			var wg sync.WaitGroup
			ready := make(chan struct{})
			for j := range checkouts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-ready
					answers[j].code, answers[j].page = post(start+"/checkout", url.Values{"action": {"checkout"}})
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				added.code, added.page = post(start+"/cart", url.Values{"offer_id": {"offer-teamchat-free"}, "action": {"request-approval"}})
			}()
			close(ready)
			wg.Wait()

			returned := ""
			for _, a := range answers {
				switch a.code {
				case http.StatusOK:
					assert.True(t, returned == "", "a second checkout returned the cart again")
					returned = a.page
				case http.StatusConflict:
					assert.Contains(t, a.page, "Your cart went back to Coupa")
				default:
					t.Errorf("checkout answered %d: %s", a.code, a.page)
				}
			}
			require.NotEmpty(t, returned, "one checkout returns the cart")
			switch added.code {
			case http.StatusSeeOther:
				assert.True(t, strings.Contains(returned, "TeamChat"), "an item added before the return is in the returned cart")
			case http.StatusConflict:
				assert.Contains(t, added.page, "Your cart went back to Coupa")
				assert.False(t, strings.Contains(returned, "TeamChat"), "an item refused is not in the returned cart")
			default:
				t.Errorf("adding answered %d: %s", added.code, added.page)
			}
			want := []string{"offer-cloudsight-payg"}
			if added.code == http.StatusSeeOther {
				want = []string{"offer-cloudsight-payg", "offer-teamchat-free"}
			}
			assert.Equal(t, want, cartItems(t, s, start), "nothing was added after the return")
		}
		assert.Equal(t, before+sessions, returnedCarts(t, s), "each cart went back exactly once")
	})
}
