package punchout_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

// csp reads a Content-Security-Policy header into its directives.
func csp(t *testing.T, header string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range strings.Split(header, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		_, dup := out[name]
		require.False(t, dup, "directive %s twice in %q", name, header)
		out[name] = value
	}
	return out
}

func getPage(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postPage(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The BrowserFormPost origin in the pages' Content-Security-Policy is
// rebuilt from its checked parts; a hostile one (a session stored before
// setup checked it, or written around it) adds nothing to the header, and
// its cart is not returned.
func TestContentSecurityPolicyNamesOnlyACheckedOrigin(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		for _, tc := range []struct {
			name, formPost, source string
		}{
			{"https", "https://demo.coupahost.com/punchout/checkout?id=27", "https://demo.coupahost.com"},
			{"port and case", "https://Demo.CoupaHost.com:8443/punchout/checkout", "https://demo.coupahost.com:8443"},
			{"IPv4 loopback", "http://127.0.0.1:8080/punchout/checkout", "http://127.0.0.1:8080"},
			{"IPv6 loopback", "http://[0:0::1]:8080/punchout/checkout", "http://[::1]:8080"},
			{"semicolon", "https://buyer.example;script-src *", ""},
			{"quoted keyword", "https://a.example 'unsafe-inline'", ""},
			{"javascript", "javascript:alert(1)", ""},
			{"user info", "https://user:pw@host.example/", ""},
			{"comma", "https://a.example,b.example/", ""},
			{"wildcard", "https://*.example/", ""},
			{"newline", "https://a.example\r\nSet-Cookie: x=1", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				start := startPage(t, s, setupRequest("coupa", "csp-"+tc.name+"@x", "create", "ck-csp", buyerURL, ""))
				_, err := s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE punchout_sessions SET browser_form_post_url = ? WHERE id = ?`), tc.formPost, sessionID(start))
				require.NoError(t, err)

				want := "'self'"
				if tc.source != "" {
					want += " " + tc.source
				}
				resp, _ := getPage(t, start)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, map[string]string{
					"default-src": "'none'", "style-src": "'unsafe-inline'", "img-src": "'self' data:",
					"form-action": want, "frame-ancestors": want, "base-uri": "'none'",
				}, csp(t, resp.Header.Get("Content-Security-Policy")))
				assert.Empty(t, resp.Header.Values("Set-Cookie"))

				resp, page := getPage(t, start+"/cart")
				require.Equal(t, http.StatusOK, resp.StatusCode)
				resp, out := postPage(t, start+"/checkout", url.Values{"action": {"checkout"}})
				if tc.source == "" {
					assert.Contains(t, page, "This cart cannot be returned to Coupa")
					assert.NotContains(t, page, `value="checkout"`, "no button that cannot work")
					assert.Equal(t, http.StatusForbidden, resp.StatusCode)
					assert.Contains(t, out, "This cart cannot be returned to Coupa")
					assert.NotContains(t, out, "cxml-urlencoded")
					assert.Equal(t, want, csp(t, resp.Header.Get("Content-Security-Policy"))["form-action"])
					return
				}
				assert.Contains(t, page, `value="checkout"`)
				require.Equal(t, http.StatusOK, resp.StatusCode, out)
				d := csp(t, resp.Header.Get("Content-Security-Policy"))
				assert.Equal(t, tc.source, d["form-action"], "the checkout page may post only to the buyer")
				assert.Equal(t, "'self' "+tc.source, d["frame-ancestors"])
			})
		}
	})
}

// Checkout checks the BrowserFormPost URL against the connection as it is
// now: a host taken off the allow-list after the session opened gets no
// cart, and the session stays open.
func TestCheckoutChecksTheAllowList(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		var conn struct{ ID string }
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/connections", map[string]any{
			"organization_id": "org_demo", "name": "Open", "system": "coupa",
			"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "Open"},
			"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
			"shared_secret":       "open-secret-1",
		}, &conn))
		b := setupRequest("coupa", "recheck@x", "create", "ck", "https://buyer.example/punchout/checkout", "")
		b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "DemoCorpCoupa", "Open"), "coupa-demo-secret", "open-secret-1"))
		start := startPage(t, s, b)
		sh := newShopper(t)
		code, _ := sh.request(start, "offer-teamchat-free")
		require.Equal(t, http.StatusOK, code)

		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/connections/"+conn.ID, map[string]any{"allowed_form_post_hosts": []string{"acme.example"}}, nil))
		before := returnedCarts(t, s)
		code, page := sh.get(start + "/cart")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, page, "This cart cannot be returned to Coupa: the BrowserFormPost URL https://buyer.example/punchout/checkout is on host buyer.example, which is not on the connection&#39;s allow-list (acme.example)")
		code, page = sh.post(start+"/checkout", url.Values{"action": {"checkout"}})
		assert.Equal(t, http.StatusForbidden, code)
		assert.Contains(t, page, "This cart cannot be returned to Coupa")
		assert.NotContains(t, page, "cxml-urlencoded")
		assert.Equal(t, before, returnedCarts(t, s))

		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/connections/"+conn.ID, map[string]any{"allowed_form_post_hosts": []string{"buyer.example"}}, nil))
		action, _, _ := sh.checkout(start)
		assert.Equal(t, "https://buyer.example/punchout/checkout", action, "the session was still open")
	})
}
