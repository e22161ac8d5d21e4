package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/console"
)

// provider runs a real OpenID Connect provider on loopback until the
// test ends, and returns it with the option that points the gateway at
// it.
func provider(t *testing.T) (*mockoidc.MockOIDC, apptest.Option) {
	t.Helper()
	m, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	return m, func(c *app.Config) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = cfg.Issuer, cfg.ClientID, cfg.ClientSecret
	}
}

func users(t *testing.T, s *apptest.Server) []string {
	t.Helper()
	var out struct{ Users []struct{ Email string } }
	require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/users", nil, &out))
	var emails []string
	for _, u := range out.Users {
		emails = append(emails, u.Email)
	}
	return emails
}

// TestOIDCSignIn goes through the whole authorization code flow against
// a provider on loopback, in a browser that follows every redirect: the
// login page's SSO button, the provider, the callback. An invited email
// signs in (and its user is linked to the provider's identity); an
// unknown email and an unverified one are refused with a page that says
// why, and no user is created. On both engines.
func TestOIDCSignIn(t *testing.T) {
	m, withOIDC := provider(t)
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		newUser(t, s, "ivy@demo.example", "Ivy Invited", "billing", "")
		before := users(t, s)

		tests := []struct {
			name     string
			user     *mockoidc.MockUser
			status   int
			want     string
			signedIn bool
		}{
			{name: "invited email", user: &mockoidc.MockUser{Subject: "ivy-1", Email: "Ivy@demo.example", EmailVerified: true},
				status: 200, want: "Signed in as Ivy Invited (billing) of Demo Corp", signedIn: true},
			{name: "invited email again", user: &mockoidc.MockUser{Subject: "ivy-1", Email: "ivy@demo.example", EmailVerified: true},
				status: 200, want: "Signed in as Ivy Invited", signedIn: true},
			{name: "invited email, another identity", user: &mockoidc.MockUser{Subject: "someone-new", Email: "ivy@demo.example", EmailVerified: true},
				status: 403, want: "is linked to another single sign-on account"},
			{name: "unknown email", user: &mockoidc.MockUser{Subject: "eve-1", Email: "eve@elsewhere.example", EmailVerified: true},
				status: 403, want: "No invitation for this email: ask your organization&#39;s admin."},
			{name: "unverified email", user: &mockoidc.MockUser{Subject: "ivy-2", Email: "ivy@demo.example", EmailVerified: false},
				status: 403, want: "Your sign-in provider has not verified the email ivy@demo.example"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := newBrowser(t, s)
				login := b.get("/admin/login")
				require.Contains(t, login.body, `<form method="get" action="/admin/oidc/start">`)
				require.Contains(t, login.body, "Sign in with SSO")

				m.QueueUser(tc.user)
				got := b.get("/admin/oidc/start")
				assert.Equal(t, tc.status, got.status, got.body)
				assert.Contains(t, got.body, tc.want)
				if tc.signedIn {
					assert.Equal(t, s.URL+"/admin", got.url)
					return
				}
				assert.True(t, strings.HasPrefix(got.url, s.URL+"/admin/oidc/callback?"), got.url)
				assert.Contains(t, got.body, "Sign in with SSO", "the sign-in page again")
				assert.Equal(t, s.URL+"/admin/login", b.get("/admin").url, "not signed in")
			})
		}
		assert.Equal(t, before, users(t, s), "no user was created")

		log := audit(t, s)
		in := events(log, "user.sign_in")
		require.Len(t, in, 2)
		assert.Equal(t, "oidc", in[0].Changes["method"].After)
		assert.Equal(t, m.Issuer()+" ivy-1", in[0].Changes["oidc_subject"].After, "linked at the first sign-in")
		assert.NotContains(t, in[1].Changes, "oidc_subject", "and only then")
		reasons := map[string]bool{}
		for _, e := range events(log, "user.sign_in_failed") {
			reasons[e.Changes["reason"].After.(string)] = true
		}
		assert.Equal(t, map[string]bool{"the user ivy@demo.example is linked to another single sign-on account": true, "email not verified": true}, reasons,
			"the unknown email's refusal is no organization's")
	}, withOIDC)
}

// TestOIDCState: a callback that the browser's session did not start
// (a forged or replayed one) is refused, and so is a code the provider
// did not issue; the session that started the flow is not the one that
// is signed in (its token is renewed), so a token planted before sign-in
// is worthless after it.
func TestOIDCState(t *testing.T) {
	m, withOIDC := provider(t)
	s := apptest.Start(t, sqliteDSN(t), withOIDC)
	newUser(t, s, "ivy@demo.example", "Ivy Invited", "billing", "")

	b := newBrowser(t, s)
	got := b.get("/admin/oidc/callback?code=whatever&state=forged")
	assert.Equal(t, 400, got.status)
	assert.Contains(t, got.body, "This sign-in was not started here")

	// Stop before the provider: the browser has a session with a state.
	c := &http.Client{Jar: b.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + "/admin/oidc/start")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	auth, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	q := auth.Query()
	assert.Equal(t, "S256", q.Get("code_challenge_method"), "PKCE")
	assert.NotEmpty(t, q.Get("nonce"))
	assert.Equal(t, s.URL+"/admin/oidc/callback", q.Get("redirect_uri"))
	planted := b.cookie()
	require.NotEmpty(t, planted)

	got = b.get("/admin/oidc/callback?code=not-a-code&state=" + url.QueryEscape(q.Get("state")))
	assert.Equal(t, 401, got.status, "a code the provider did not issue")
	assert.Contains(t, got.body, "did not confirm this sign-in")

	m.QueueUser(&mockoidc.MockUser{Subject: "ivy-1", Email: "ivy@demo.example", EmailVerified: true})
	got = b.get("/admin/oidc/start")
	require.Equal(t, 200, got.status, got.body)
	require.Contains(t, got.body, "Signed in as Ivy Invited")
	assert.NotEqual(t, planted, b.cookie(), "the token is renewed at sign-in")

	replay := newBrowser(t, s)
	u, _ := url.Parse(s.URL)
	replay.jar.SetCookies(u, []*http.Cookie{{Name: "punchout_console", Value: planted}})
	assert.Equal(t, s.URL+"/admin/login", replay.get("/admin").url, "the token from before sign-in signs no one in")
}

// TestNoSSOWithoutProvider: without --oidc-*, the login page has no SSO
// button and the SSO routes answer 404.
func TestNoSSOWithoutProvider(t *testing.T) {
	s := apptest.Start(t, sqliteDSN(t))
	b := newBrowser(t, s)
	got := b.get("/admin/login")
	assert.Equal(t, 200, got.status)
	assert.Contains(t, got.body, `<label for="password">Password</label>`)
	assert.NotContains(t, got.body, "Sign in with SSO")
	assert.Equal(t, 404, b.get("/admin/oidc/start").status)
}

// TestOIDCFailedTokensThrottled: codes the provider refuses count
// against the source address, as wrong passwords do, until it is told to
// wait.
func TestOIDCFailedTokensThrottled(t *testing.T) {
	_, withOIDC := provider(t)
	clock := apptest.NewClock(time.Now())
	s := apptest.Start(t, sqliteDSN(t), withOIDC, apptest.WithClock(clock), apptest.WithAuthFailureLimit(1.0/60, 2))
	b := newBrowser(t, s)
	c := &http.Client{Jar: b.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	badCode := func() answer {
		t.Helper()
		resp, err := c.Get(s.URL + "/admin/oidc/start")
		require.NoError(t, err)
		resp.Body.Close()
		auth, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return b.get("/admin/oidc/callback?code=forged&state=" + url.QueryEscape(auth.Query().Get("state")))
	}
	assert.Equal(t, 401, badCode().status)
	assert.Equal(t, 401, badCode().status)
	got := badCode()
	assert.Equal(t, 429, got.status)
	assert.Contains(t, got.body, "Too many attempts, wait 1 minute")
}

func TestNewOIDC(t *testing.T) {
	tests := []struct {
		name, issuer, id, secret string
		configured               bool
		err                      string
	}{
		{name: "none"},
		{name: "all three", issuer: "https://login.example", id: "gw", secret: "s", configured: true},
		{name: "http on loopback", issuer: "http://127.0.0.1:5556/dex", id: "gw", secret: "s", configured: true},
		{name: "http elsewhere", issuer: "http://login.example", id: "gw", secret: "s", err: "must be an https URL"},
		{name: "no secret", issuer: "https://login.example", id: "gw", err: "go together"},
		{name: "secret only", secret: "s", err: "go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := console.NewOIDC(tc.issuer, tc.id, tc.secret, "https://gateway.example", nil)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.configured, o != nil)
		})
	}
}
