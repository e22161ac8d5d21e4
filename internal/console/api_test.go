package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
)

func (b *browser) api(method, path, body string, header ...string) answer {
	b.t.Helper()
	req, err := http.NewRequest(method, b.s.URL+path, strings.NewReader(body))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// TestSessionCallsTheAPI: a signed-in person's cookie authenticates the
// admin API from the console's own origin, with their own role and
// organization; from another origin it authenticates nothing, so a page
// elsewhere cannot use it; after sign-out, and for a disabled user,
// neither.
func TestSessionCallsTheAPI(t *testing.T) {
	s := apptest.Start(t, sqliteDSN(t))
	ada := newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
	newUser(t, s, "vic@demo.example", "Vic Viewer", "viewer", password)

	anon := newBrowser(t, s)
	assert.Equal(t, 401, anon.api("GET", "/api/v1/connections", "").status, "no cookie, no token")

	vic := newBrowser(t, s)
	require.Equal(t, 200, vic.login("vic@demo.example", password).status)
	got := vic.api("GET", "/api/v1/connections", "")
	assert.Equal(t, 200, got.status, got.body)
	assert.Contains(t, got.body, "conn_demo_coupa", "its own organization's")
	assert.Equal(t, 403, vic.api("POST", "/api/v1/tokens", `{"name":"x","role":"viewer"}`).status, "a viewer's role")
	assert.Equal(t, 403, vic.api("POST", "/api/v1/organizations", `{"name":"x","po_mode":"none"}`).status, "an organization's user")

	b := newBrowser(t, s)
	require.Equal(t, 200, b.login("ada@demo.example", password).status)
	token := `{"name":"from the console","role":"viewer"}`
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{name: "cross-site", header: []string{"Sec-Fetch-Site", "cross-site"}, status: 401},
		{name: "same-site, another origin", header: []string{"Sec-Fetch-Site", "same-site"}, status: 401},
		{name: "Origin of another host", header: []string{"Origin", "http://evil.example"}, status: 401},
		{name: "same origin", header: []string{"Sec-Fetch-Site", "same-origin", "Origin", s.URL}, status: 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.api("POST", "/api/v1/tokens", token, tc.header...)
			assert.Equal(t, tc.status, got.status, got.body)
		})
	}
	var users []string
	for _, e := range events(audit(t, s), "token.create") {
		users = append(users, e.Actor.Kind+" "+e.Actor.ID)
	}
	assert.Equal(t, []string{"user " + ada}, users, "one token made, by the signed-in user")

	require.Equal(t, 200, b.post("/admin/logout", nil).status)
	assert.Equal(t, 401, b.api("GET", "/api/v1/connections", "").status, "signed out")

	require.Equal(t, 200, b.login("ada@demo.example", password).status)
	require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/users/"+ada, map[string]any{"disabled": true}, nil))
	assert.Equal(t, 401, b.api("GET", "/api/v1/connections", "").status, "disabled")
}
