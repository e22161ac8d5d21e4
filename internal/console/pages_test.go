package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
)

// other is a second organization with a connection of its own, and its
// admin, for the scoping tests.
type other struct {
	org, conn string
}

func newOther(t testing.TB, s *apptest.Server) other {
	t.Helper()
	var org struct{ ID string }
	require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/organizations", map[string]any{"name": "Other Co", "po_mode": "procurement_system"}, &org))
	var conn struct{ ID string }
	require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": org.ID, "name": "Other Co Coupa", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "OtherCo"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":       "other-co-secret",
	}, &conn))
	require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/users", map[string]any{
		"email": "olga@other.example", "name": "Olga Other", "organization_id": org.ID, "role": "admin", "password": password}, nil))
	require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/users", map[string]any{
		"email": "otto@marketplace.example", "name": "Otto Operator", "role": "operator", "password": password}, nil))
	return other{org: org.ID, conn: conn.ID}
}

// TestPagesScoping: each page answers each role and organization as the
// admin API's route does: an organization's people see their own
// organization only, another's object is answered 404 in the words of a
// missing one, a role below the route's is refused 403, and an operator
// sees every organization.
func TestPagesScoping(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		o := newOther(t, s)
		newUser(t, s, "vera@demo.example", "Vera Viewer", "viewer", password)
		people := map[string][2]string{
			"admin":    {app.DemoAdminEmail, app.DemoAdminPassword},
			"billing":  {app.DemoBillingEmail, app.DemoBillingPassword},
			"viewer":   {"vera@demo.example", password},
			"other":    {"olga@other.example", password},
			"operator": {"otto@marketplace.example", password},
		}
		browsers := map[string]*browser{}
		for who, cred := range people {
			b := newBrowser(t, s)
			require.Equal(t, http.StatusOK, b.login(cred[0], cred[1]).status, who)
			browsers[who] = b
		}
		demo := "/admin/connections/" + app.DemoCoupaID
		foreign := "/admin/connections/" + o.conn
		tests := []struct {
			who, method, path string
			form              url.Values
			status            int
			want, dontWant    []string
		}{
			{who: "viewer", method: "GET", path: "/admin", status: 200, want: []string{"Signed in as Vera Viewer (viewer) of Demo Corp", "Failed invoice deliveries"}},
			{who: "viewer", method: "GET", path: "/admin/connections", status: 200, want: []string{"Demo Corp Coupa", "Demo Corp SAP Ariba"}, dontWant: []string{"Other Co Coupa", "New connection"}},
			{who: "viewer", method: "GET", path: demo, status: 200, want: []string{"Set up in Coupa", "Punchout URL", s.URL + "/cxml"}, dontWant: []string{"Rotate shared secret", "Send a test", "coupa-demo-secret"}},
			{who: "viewer", method: "GET", path: "/admin/connections/new", status: 403, want: []string{"this needs the role admin or above"}},
			{who: "viewer", method: "POST", path: demo + "/rotate", status: 403},
			{who: "billing", method: "POST", path: demo + "/disable", status: 403},
			{who: "billing", method: "POST", path: demo + "/test", form: url.Values{"shared_secret": {app.DemoCoupaSecret}}, status: 403},
			{who: "billing", method: "GET", path: demo + "/edit", status: 403},
			{who: "admin", method: "GET", path: demo, status: 200, want: []string{"Rotate shared secret", "Send a test"}, dontWant: []string{"coupa-demo-secret"}},
			{who: "admin", method: "GET", path: foreign, status: 404, want: []string{"connection " + o.conn + " not found"}, dontWant: []string{"Other Co Coupa"}},
			{who: "admin", method: "GET", path: "/admin/connections/conn_nobody", status: 404, want: []string{"connection conn_nobody not found"}},
			{who: "admin", method: "GET", path: foreign + "/edit", status: 404},
			{who: "admin", method: "POST", path: foreign + "/disable", status: 404},
			{who: "admin", method: "POST", path: foreign + "/rotate", status: 404},
			{who: "admin", method: "POST", path: foreign + "/test", form: url.Values{"shared_secret": {"other-co-secret"}}, status: 404},
			{who: "admin", method: "POST", path: foreign, form: url.Values{"form_post_field": {"cxml-base64"}}, status: 404},
			{who: "admin", method: "GET", path: "/admin/connections?organization_id=" + o.org, status: 404, dontWant: []string{"Other Co Coupa"}},
			{who: "admin", method: "GET", path: "/admin?organization_id=" + o.org, status: 404},
			{who: "admin", method: "POST", path: "/admin/connections", form: url.Values{"organization_id": {o.org}, "name": {"Sneaky"}, "system": {"coupa"},
				"buyer_domain": {"NetworkID"}, "buyer_identity": {"Sneaky"}, "supplier_domain": {"DUNS"}, "supplier_identity": {"1"}}, status: 403},
			{who: "other", method: "GET", path: demo, status: 404, want: []string{"connection " + app.DemoCoupaID + " not found"}},
			{who: "other", method: "GET", path: "/admin/connections", status: 200, want: []string{"Other Co Coupa"}, dontWant: []string{"Demo Corp Coupa"}},
			{who: "operator", method: "GET", path: "/admin/connections", status: 200, want: []string{"Other Co Coupa", "Demo Corp Coupa", "Every organization"}},
			{who: "operator", method: "GET", path: "/admin/connections?organization_id=" + o.org, status: 200, want: []string{"Other Co Coupa"}, dontWant: []string{"Demo Corp Coupa"}},
			{who: "operator", method: "GET", path: foreign, status: 200, want: []string{"Other Co Coupa", "Set up in Coupa"}},
			{who: "operator", method: "GET", path: "/admin", status: 200, want: []string{"of the marketplace"}},
		}
		for _, tc := range tests {
			t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
				b := browsers[tc.who]
				var got answer
				if tc.method == "GET" {
					got = b.get(tc.path)
				} else {
					got = b.post(tc.path, tc.form)
				}
				assert.Equal(t, tc.status, got.status, got.body)
				for _, w := range tc.want {
					assert.Contains(t, got.body, w)
				}
				for _, w := range tc.dontWant {
					assert.NotContains(t, got.body, w)
				}
			})
		}
		t.Run("signed out", func(t *testing.T) {
			b := newBrowser(t, s)
			assert.Equal(t, s.URL+"/admin/login", b.get("/admin/connections").url)
			assert.Equal(t, s.URL+"/admin/login", b.get(demo).url)
			got := b.post(demo+"/rotate", nil)
			assert.Equal(t, http.StatusUnauthorized, got.status)
			assert.Contains(t, got.body, "you are signed out")
		})
	})
}

// TestConnectionLifecycle: an admin creates a connection through the
// form (its secret shown once), tests it, rotates its secret (the old one
// stops working), edits and disables it, each change in the audit log
// under the admin's name, on both engines.
func TestConnectionLifecycle(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		b := newBrowser(t, s)
		require.Equal(t, http.StatusOK, b.login(app.DemoAdminEmail, app.DemoAdminPassword).status)
		got := b.post("/admin/connections", url.Values{"name": {"Acme Coupa"}, "system": {"coupa"},
			"buyer_domain": {"NetworkID"}, "buyer_identity": {"AcmeCoupa"}, "supplier_domain": {"DUNS"}, "supplier_identity": {"081254817"},
			"shared_secret": {"acme-typed-secret"}, "form_post_field": {"cxml-urlencoded"}, "payg_blanket_amount": {"5000.00"}})
		require.Equal(t, http.StatusCreated, got.status, got.body)
		assert.Contains(t, got.body, "acme-typed-secret", "the secret, shown this once")
		id := between(got.body, `action="/admin/connections/`, `/rotate"`)
		require.NotEmpty(t, id)
		page := "/admin/connections/" + id
		assert.NotContains(t, b.get(page).body, "acme-typed-secret", "never again")

		got = b.post(page+"/test", url.Values{"shared_secret": {"acme-typed-secret"}})
		require.Equal(t, http.StatusOK, got.status)
		assert.Contains(t, got.body, "The gateway answered 200 OK")
		assert.Contains(t, got.body, s.URL+"/punchout/s/", "the StartPage link")
		assert.NotContains(t, got.body, "acme-typed-secret", "the request is shown with its secret removed")
		got = b.post(page+"/test", url.Values{"shared_secret": {"a-wrong-secret"}})
		assert.Contains(t, got.body, "The gateway answered 401 Unauthorized")
		got = b.post(page+"/test", url.Values{})
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.body, "Type the connection&#39;s shared secret")

		got = b.post(page+"/rotate", nil)
		require.Equal(t, http.StatusOK, got.status)
		secret := between(got.body, `<code id="setup-4">`, `</code>`)
		require.NotEmpty(t, secret, got.body)
		assert.NotEqual(t, "acme-typed-secret", secret)
		assert.Contains(t, b.post(page+"/test", url.Values{"shared_secret": {"acme-typed-secret"}}).body, "401 Unauthorized", "the old secret no longer works")
		assert.Contains(t, b.post(page+"/test", url.Values{"shared_secret": {secret}}).body, "200 OK", "the new one does")

		got = b.post(page, url.Values{"form_post_field": {"cxml-base64"}, "payg_blanket_amount": {"not money"}})
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.body, "The connection was not changed: payg_blanket_amount must be a positive decimal string")
		got = b.post(page, url.Values{"form_post_field": {"cxml-base64"}, "payg_blanket_amount": {"7500.00"}, "allowed_form_post_hosts": {"acme.coupahost.com\n127.0.0.1"}})
		require.Equal(t, http.StatusOK, got.status, got.body)
		assert.Contains(t, got.body, "Connection saved.")
		assert.Contains(t, got.body, "acme.coupahost.com, 127.0.0.1")

		got = b.post(page+"/disable", nil)
		require.Equal(t, http.StatusOK, got.status)
		assert.Contains(t, got.body, "Connection disabled")
		assert.Contains(t, b.get("/admin/connections?status=disabled").body, "Acme Coupa")
		assert.NotContains(t, b.get("/admin/connections?status=enabled").body, "Acme Coupa")

		got = b.post("/admin/connections", url.Values{"name": {""}, "system": {"coupa"}})
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.body, "The connection was not created: name is required")

		admin, err := s.App.Users.ByEmail(t.Context(), app.DemoAdminEmail)
		require.NoError(t, err)
		byAction := map[string]int{}
		for _, e := range audit(t, s) {
			if e.ObjectID == id {
				assert.Equal(t, "user", e.Actor.Kind, e.Action)
				assert.Equal(t, admin.ID, e.Actor.ID, e.Action)
				assert.NotEmpty(t, e.Source, e.Action)
				byAction[e.Action]++
			}
		}
		assert.Equal(t, map[string]int{"connection.create": 1, "connection.update": 2, "connection.disable": 1}, byAction)
	})
}

// between is the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
