package punchout_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/fixtures"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
	"github.com/cxmlgate/punchout/punchout"
)

// shopper is a browser without JavaScript: it follows redirects, keeps
// cookies (the pages must not need them) and reads forms.
type shopper struct {
	t testing.TB
	c *http.Client
}

func newShopper(t testing.TB) *shopper {
	jar, _ := cookiejar.New(nil)
	return &shopper{t: t, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (s *shopper) get(u string) (int, string) {
	s.t.Helper()
	resp, err := s.c.Get(u)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *shopper) post(u string, form url.Values) (int, string) {
	s.t.Helper()
	resp, err := s.c.PostForm(u, form)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *shopper) request(start, offerID string) (int, string) {
	return s.post(start+"/cart", url.Values{"offer_id": {offerID}, "action": {"request-approval"}})
}

// checkout returns the cart the checkout page would post: the form's
// action, its field name and the decoded cXML.
func (s *shopper) checkout(start string) (action, field string, doc []byte) {
	s.t.Helper()
	code, page := s.post(start+"/checkout", url.Values{"action": {"checkout"}})
	require.Equal(s.t, http.StatusOK, code, page)
	root, err := html.Parse(strings.NewReader(page))
	require.NoError(s.t, err)
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			action = attr(n, "action")
		}
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			field = attr(n, "name")
			doc = []byte(attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if field == punchout.FieldBase64 {
		var err error
		doc, err = base64.StdEncoding.DecodeString(string(doc))
		require.NoError(s.t, err)
	}
	cxmltest.Validate(s.t, doc)
	return action, field, doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func poom(t testing.TB, doc []byte) *cxml.PunchOutOrderMessage {
	t.Helper()
	d, err := cxml.Parse(doc, cxml.Limits{})
	require.NoError(t, err)
	m, ok := d.Message.Body.(*cxml.PunchOutOrderMessage)
	require.True(t, ok)
	return m
}

const buyerURL = "https://demo.coupahost.com/punchout/checkout?id=27"

func TestSetupFixturesOpenSessionsWithTheirUser(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		for _, tc := range []struct {
			fixture, greeting, cookie string
		}{
			{"coupa_punchoutsetuprequest_production_2024", "", ""},
			{"coupa_punchoutsetuprequest_contact_before_formpost", "", ""},
			{"ariba_punchoutsetuprequest_selecteditem", "", ""},
		} {
			t.Run(tc.fixture, func(t *testing.T) {
				var body []byte
				for _, f := range fixtures.All() {
					if f.Name == tc.fixture {
						body = fixtures.Read(f)
					}
				}
				require.NotNil(t, body)
				start := startPage(t, s, body)
				sh := newShopper(t)
				code, page := sh.get(start)
				require.Equal(t, 200, code)
				assert.Contains(t, page, "Shopping as ")
				assert.Contains(t, page, `name="action" value="request-approval"`)
				var n int
				require.NoError(t, s.App.DB.R.Get(&n, s.App.DB.Rebind(`SELECT COUNT(*) FROM punchout_sessions WHERE user_email <> '' AND buyer_cookie <> ''`)))
				assert.Positive(t, n, "the session knows the user's email and the BuyerCookie")
			})
		}
	})
}

func TestSetupRefusals(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	var conn map[string]any
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": "org_demo", "name": "Restricted", "system": "coupa",
		"buyer_credential":        map[string]string{"domain": "NetworkID", "identity": "Restricted"},
		"supplier_credential":     map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":           "restricted-secret",
		"allowed_form_post_hosts": []string{"acme.coupahost.com"},
	}, &conn))
	restricted := func(formPost string) []byte {
		b := setupRequest("coupa", "r-"+formPost+"@x", "create", "ck", formPost, "")
		b = []byte(strings.ReplaceAll(string(b), "DemoCorpCoupa", "Restricted"))
		return []byte(strings.ReplaceAll(string(b), "coupa-demo-secret", "restricted-secret"))
	}
	tests := []struct {
		name   string
		body   []byte
		code   int
		detail string
	}{
		{"source operation", setupRequest("coupa", "s1@x", "source", "ck", buyerURL, ""), 450, `operation "source"`},
		{"unknown operation", setupRequest("coupa", "s2@x", "browse", "ck", buyerURL, ""), 400, "not a punchout operation"},
		{"no BrowserFormPost", []byte(strings.Replace(string(setupRequest("coupa", "s3@x", "create", "ck", buyerURL, "")),
			"<BrowserFormPost><URL>"+buyerURL+"</URL></BrowserFormPost>", "", 1)), 400, "no BrowserFormPost"},
		{"relative BrowserFormPost", setupRequest("coupa", "s4@x", "create", "ck", "/checkout", ""), 400, "not an absolute"},
		{"no BuyerCookie", setupRequest("coupa", "s5@x", "create", "", buyerURL, ""), 400, "no BuyerCookie"},
		{"host outside the allow-list", restricted("https://evil.example/collect"), 403,
			"the BrowserFormPost URL https://evil.example/collect is on host evil.example, which is not on the connection's allow-list (acme.coupahost.com)"},
		{"http host outside the allow-list", restricted("http://evil.example/collect"), 403,
			"the BrowserFormPost URL http://evil.example/collect is not https and evil.example is not on the connection's allow-list (acme.coupahost.com)"},
		{"host in the allow-list", restricted("https://acme.coupahost.com/punchout/checkout?id=1"), 200, ""},
		{"http to a listed host", restricted("http://acme.coupahost.com/punchout/checkout?id=2"), 200, ""},
		{"subdomain of a listed host", restricted("https://eu.acme.coupahost.com/punchout/checkout?id=3"), 200, ""},
		{"unlisted loopback with an allow-list", restricted("http://127.0.0.1:9/punchout/checkout?id=4"), 403,
			"127.0.0.1 is not on the connection's allow-list (acme.coupahost.com)"},
		{"http without an allow-list", setupRequest("coupa", "s7@x", "create", "ck", "http://buyer.example/punchout/checkout", ""), 403,
			"the BrowserFormPost URL http://buyer.example/punchout/checkout is not https and buyer.example is not on the connection's allow-list"},
		{"http to loopback without an allow-list", setupRequest("coupa", "s8@x", "create", "ck", "http://127.0.0.1:9/punchout/checkout", ""), 200, ""},
		{"http to IPv6 loopback", setupRequest("coupa", "s9@x", "create", "ck", "http://[::1]:9/punchout/checkout", ""), 200, ""},
		{"http to localhost", setupRequest("coupa", "s10@x", "create", "ck", "http://localhost:9/punchout/checkout", ""), 200, ""},
		{"https to a host off the demo allow-list", setupRequest("coupa", "s11@x", "create", "ck", "https://evil.example/collect", ""), 403,
			"is on host evil.example, which is not on the connection's allow-list (demo.coupahost.com, 127.0.0.1, ::1, localhost)"},
		{"header injection", setupRequest("coupa", "s12@x", "create", "ck", "https://demo.coupahost.com;script-src *", ""), 400, "not an absolute http(s) URL with a plain host name"},
		{"quoted source", setupRequest("coupa", "s13@x", "create", "ck", "https://demo.coupahost.com 'unsafe-inline'", ""), 400, "not an absolute http(s) URL"},
		{"javascript URL", setupRequest("coupa", "s14@x", "create", "ck", "javascript:alert(1)", ""), 400, "not an absolute http(s) URL"},
		{"user info", setupRequest("coupa", "s15@x", "create", "ck", "https://user:pw@demo.coupahost.com/", ""), 400, "no user name or password"},
		{"edit with a line that is not ours", setupRequest("coupa", "s6@x", "edit", "ck", buyerURL,
			`<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>SKU-123</SupplierPartID></ItemID></ItemOut>`), 400, "not an offer of this catalog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, doc := s.PostCXML(t, tc.body)
			assert.Equal(t, tc.code, doc.Response.Status.Code, doc.Response.Status.Detail)
			assert.Contains(t, doc.Response.Status.Detail, tc.detail)
		})
	}
	var n int
	require.NoError(t, s.App.DB.R.Get(&n, `SELECT COUNT(*) FROM punchout_sessions`))
	assert.Equal(t, 6, n, "only the accepted requests opened a session")
}

func TestCartRules(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		start := startPage(t, s, setupRequest("coupa", "rules-1@x", "create", "ck-rules", buyerURL, ""))
		sh := newShopper(t)

		for _, offer := range []string{"offer-migration-assessment", "offer-hardened-linux-contract", "offer-kubeguard-contract"} {
			code, page := sh.request(start, offer)
			assert.Equal(t, http.StatusForbidden, code, "%s: %s", offer, page)
			assert.Contains(t, page, "not")
		}
		code, _ := sh.request(start, "offer-does-not-exist")
		assert.Equal(t, http.StatusNotFound, code)

		code, page := sh.request(start, "offer-cloudsight-payg")
		require.Equal(t, 200, code, page)
		code, page = sh.request(start, "offer-weather-annual")
		assert.Equal(t, http.StatusConflict, code, "a EUR offer in a USD cart")
		assert.Contains(t, page, "one currency")
		code, _ = sh.request(start, "offer-cloudsight-payg")
		require.Equal(t, 200, code, "requesting the same offer twice keeps one line")
		code, _ = sh.request(start, "offer-teamchat-free")
		require.Equal(t, 200, code)

		action, field, doc := sh.checkout(start)
		assert.Equal(t, buyerURL, action, "the cart goes to the session's own BrowserFormPost URL")
		assert.Equal(t, punchout.FieldURLEncoded, field)
		m := poom(t, doc)
		assert.Equal(t, "ck-rules", m.BuyerCookie)
		require.Len(t, m.Items, 2)
		assert.Equal(t, "10000.00", m.Items[0].ItemDetail.UnitPrice.String(), "PAYG at the default blanket value")
		assert.Equal(t, "true", cxml.ExtrinsicValue(m.Items[0].ItemDetail.Extrinsics, "BlanketValue"))
		assert.Equal(t, "0.00", m.Items[1].ItemDetail.UnitPrice.String(), "free at zero")
		assert.Equal(t, "10000.00", m.Total.String())

		// Remove, then return an empty cart: the user cancelled.
		start = startPage(t, s, setupRequest("coupa", "rules-2@x", "create", "ck-rules", buyerURL, ""))
		for _, o := range []string{"offer-cloudsight-payg", "offer-teamchat-free"} {
			code, _ = sh.request(start, o)
			require.Equal(t, 200, code)
		}
		for _, o := range []string{"offer-cloudsight-payg", "offer-teamchat-free"} {
			code, _ = sh.post(start+"/cart/remove", url.Values{"offer_id": {o}, "action": {"remove"}})
			require.Equal(t, 200, code)
		}
		_, _, doc = sh.checkout(start)
		m = poom(t, doc)
		assert.Empty(t, m.Items, "an empty cart returns an empty message")
		assert.Equal(t, "0.00", m.Total.String())
		assert.Equal(t, "ck-rules", m.BuyerCookie)
	})
}

func TestJPYCartKeepsNoDecimals(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	start := startPage(t, s, setupRequest("coupa", "jpy@x", "create", "ck", buyerURL, ""))
	sh := newShopper(t)
	code, _ := sh.request(start, "offer-translate-jp-contract")
	require.Equal(t, 200, code)
	_, _, doc := sh.checkout(start)
	m := poom(t, doc)
	assert.Equal(t, "1200000", m.Total.String())
	assert.Contains(t, string(doc), `<Money currency="JPY">1200000</Money>`)
}

func TestConnectionBlanketAmount(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": "org_demo", "name": "Small blanket", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "Blanket"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":       "blanket-secret", "payg_blanket_amount": "2500.00",
	}, nil))
	b := setupRequest("coupa", "blanket@x", "create", "ck", buyerURL, "")
	b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "DemoCorpCoupa", "Blanket"), "coupa-demo-secret", "blanket-secret"))
	start := startPage(t, s, b)
	sh := newShopper(t)
	code, _ := sh.request(start, "offer-kubeguard-payg")
	require.Equal(t, 200, code)
	_, _, doc := sh.checkout(start)
	m := poom(t, doc)
	assert.Equal(t, "2500.00", m.Items[0].ItemDetail.UnitPrice.String())
	assert.Equal(t, "EUR", m.Items[0].ItemDetail.UnitPrice.Currency, "the blanket is in the offer's currency")
}

func TestTwoPunchoutsInOneBrowserStayApart(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	a := startPage(t, s, setupRequest("coupa", "two-a@x", "create", "cookie-a", buyerURL, ""))
	b := startPage(t, s, setupRequest("coupa", "two-b@x", "create", "cookie-b", "https://demo.coupahost.com/punchout/checkout?id=99", ""))
	require.NotEqual(t, a, b)
	sh := newShopper(t) // One browser, one cookie jar.
	code, _ := sh.request(a, "offer-cloudsight-annual-contract")
	require.Equal(t, 200, code)
	code, _ = sh.request(b, "offer-teamchat-free")
	require.Equal(t, 200, code)
	actionA, _, docA := sh.checkout(a)
	actionB, _, docB := sh.checkout(b)
	ma, mb := poom(t, docA), poom(t, docB)
	assert.Equal(t, "cookie-a", ma.BuyerCookie)
	assert.Equal(t, "cookie-b", mb.BuyerCookie)
	require.Len(t, ma.Items, 1)
	require.Len(t, mb.Items, 1)
	assert.Equal(t, "offer-cloudsight-annual-contract", ma.Items[0].ItemID.SupplierPartID)
	assert.Equal(t, "offer-teamchat-free", mb.Items[0].ItemID.SupplierPartID)
	assert.Equal(t, buyerURL, actionA)
	assert.Equal(t, "https://demo.coupahost.com/punchout/checkout?id=99", actionB)
	for _, u := range []string{s.URL} {
		parsed, _ := url.Parse(u)
		assert.Empty(t, sh.c.Jar.Cookies(parsed), "the pages set no cookie")
	}
}

func TestExpiredSession(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	s := apptest.Start(t, dbtestSQLite(t), func(c *app.Config) { c.SessionTTL = time.Second }, apptest.WithClock(clock))
	start := startPage(t, s, setupRequest("coupa", "exp@x", "create", "ck", buyerURL, ""))
	sh := newShopper(t)
	code, _ := sh.get(start)
	require.Equal(t, 200, code)
	clock.Advance(time.Second) // A session ends when its TTL is up.
	code, page := sh.get(start)
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, page, "has expired")
	code, _ = sh.request(start, "offer-teamchat-free")
	assert.Equal(t, http.StatusConflict, code)
	code, _ = sh.get(s.URL + "/punchout/s/not-a-token")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestEditRestoresCart returns a cart, then reopens it the way Ariba and
// Coupa do: an edit setup request whose ItemOut lines are the cart's
// ItemIn lines, plus what the buyer added (comments, an extrinsic). The
// reopened cart holds the same offers, and what the gateway does not model
// goes back out in the new cart.
func TestEditRestoresCart(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		start := startPage(t, s, setupRequest("ariba", "edit-1@x", "create", "ck-1", aribaBuyerURL, ""))
		sh := newShopper(t)
		for _, o := range []string{"offer-cloudsight-annual-contract", "offer-ledgerflow-private-fps"} {
			code, _ := sh.request(start, o)
			require.Equal(t, 200, code)
		}
		_, field, doc := sh.checkout(start)
		assert.Equal(t, punchout.FieldBase64, field)
		first := poom(t, doc)

		var lines strings.Builder
		for i, it := range first.Items {
			lines.WriteString(`<ItemOut quantity="1" lineNumber="` + string(rune('1'+i)) + `" requestedDeliveryDate="2026-12-01">
          <ItemID><SupplierPartID>` + it.ItemID.SupplierPartID + `</SupplierPartID><SupplierPartAuxiliaryID>` + it.ItemID.SupplierPartAuxiliaryID + `</SupplierPartAuxiliaryID></ItemID>
          <ItemDetail><UnitPrice><Money currency="USD">` + it.ItemDetail.UnitPrice.String() + `</Money></UnitPrice>
            <Description xml:lang="en-US"><ShortName>x</ShortName>as returned</Description><UnitOfMeasure>EA</UnitOfMeasure>
            <Classification domain="UNSPSC">43232300</Classification><Extrinsic name="CostCenter">CC-4711</Extrinsic></ItemDetail>
          <Comments xml:lang="en-US">Approved by J. Doe</Comments>
        </ItemOut>`)
		}
		edit := startPage(t, s, setupRequest("ariba", "edit-2@x", "edit", "ck-2", aribaBuyerURL, lines.String()))
		code, page := sh.get(edit + "/cart")
		require.Equal(t, 200, code)
		assert.Contains(t, page, "CloudSight Observability")
		assert.Contains(t, page, "LedgerFlow Accounting")

		_, _, doc = sh.checkout(edit)
		second := poom(t, doc)
		assert.Equal(t, "ck-2", second.BuyerCookie)
		require.Len(t, second.Items, 2)
		for i := range second.Items {
			assert.Equal(t, first.Items[i].ItemID.SupplierPartID, second.Items[i].ItemID.SupplierPartID)
			assert.Equal(t, first.Items[i].ItemDetail.UnitPrice.String(), second.Items[i].ItemDetail.UnitPrice.String())
			assert.Equal(t, "CC-4711", cxml.ExtrinsicValue(second.Items[i].ItemDetail.Extrinsics, "CostCenter"), "the buyer's extrinsic is echoed")
		}
		assert.Contains(t, string(doc), "Approved by J. Doe", "the buyer's comments are echoed")

		// inspect: the same lines, read-only.
		inspect := startPage(t, s, setupRequest("ariba", "edit-3@x", "inspect", "ck-3", aribaBuyerURL, lines.String()))
		code, _ = sh.request(inspect, "offer-teamchat-free")
		assert.Equal(t, http.StatusForbidden, code)
		code, _ = sh.post(inspect+"/cart/remove", url.Values{"offer_id": {"offer-cloudsight-annual-contract"}})
		assert.Equal(t, http.StatusForbidden, code)
		_, _, doc = sh.checkout(inspect)
		third := poom(t, doc)
		assert.Equal(t, "inspect", third.OperationAllowed)
		assert.Len(t, third.Items, 2)
	})
}

func TestRevisedOfferIsFlaggedInCart(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	start := startPage(t, s, setupRequest("coupa", "rev@x", "create", "ck", buyerURL, ""))
	sh := newShopper(t)
	code, _ := sh.request(start, "offer-cloudsight-annual-contract")
	require.Equal(t, 200, code)
	var res map[string]int
	require.Equal(t, 200, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{
		"offers": []map[string]any{{"id": "offer-cloudsight-annual-contract", "product_id": "prod-cloudsight", "pricing_model": "upfront",
			"currency": "USD", "price": "26000.00", "duration_months": 12}},
	}, &res))
	assert.Equal(t, 1, res["offers_revised"])
	code, page := sh.get(start + "/cart")
	require.Equal(t, 200, code)
	assert.Contains(t, page, "revised this offer")
	code, page = sh.post(start+"/checkout", url.Values{"action": {"checkout"}})
	assert.Equal(t, http.StatusConflict, code, "a stale line is not sent: %s", page)
}

// TestSessionSurvivesRestart opens a session, stops the gateway, starts
// another on the same database and key, and keeps shopping.
func TestSessionSurvivesRestart(t *testing.T) {
	dsn := dbtestSQLite(t)
	first := apptest.Start(t, dsn)
	start := startPage(t, first, setupRequest("coupa", "restart@x", "create", "ck-restart", buyerURL, ""))
	sh := newShopper(t)
	code, _ := sh.request(start, "offer-teamchat-free")
	require.Equal(t, 200, code)
	path := strings.TrimPrefix(start, first.URL)
	first.Close()

	second := apptest.Start(t, dsn)
	code, page := sh.get(second.URL + path + "/cart")
	require.Equal(t, 200, code, page)
	assert.Contains(t, page, "TeamChat Community")
}

func TestEditWithMixedCurrenciesIsRefused(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	lines := `<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>offer-cloudsight-annual-contract</SupplierPartID></ItemID></ItemOut>
		<ItemOut quantity="1" lineNumber="2"><ItemID><SupplierPartID>offer-kubeguard-payg</SupplierPartID></ItemID></ItemOut>`
	_, doc := s.PostCXML(t, setupRequest("ariba", "mixed@x", "edit", "ck", aribaBuyerURL, lines))
	assert.Equal(t, 400, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "a cart has one currency")
}
