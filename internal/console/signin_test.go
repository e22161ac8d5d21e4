package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
)

const password = "correct horse battery staple"

// browser is a person's browser: it keeps cookies and follows redirects.
type browser struct {
	t   testing.TB
	s   *apptest.Server
	c   *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t testing.TB, s *apptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, s: s, jar: jar, c: &http.Client{Jar: jar}}
}

type answer struct {
	status int
	body   string
	// url is where the last redirect led.
	url    string
	header http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return answer{status: resp.StatusCode, body: string(raw), url: resp.Request.URL.String(), header: resp.Header}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.URL+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) login(email, pw string) answer {
	b.t.Helper()
	return b.post("/admin/login", url.Values{"email": {email}, "password": {pw}})
}

// cookie is the browser's console session cookie ("" when none).
func (b *browser) cookie() string {
	u, _ := url.Parse(b.s.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "punchout_console" {
			return c.Value
		}
	}
	return ""
}

// newUser makes a user of the demo organization with the bootstrap
// token; with an empty password, the user is invited for single sign-on.
func newUser(t testing.TB, s *apptest.Server, email, name, role, pw string) string {
	t.Helper()
	in := map[string]any{"email": email, "name": name, "organization_id": app.DemoOrganizationID, "role": role}
	if pw != "" {
		in["password"] = pw
	}
	var out struct{ ID string }
	require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/users", in, &out))
	return out.ID
}

func audit(t testing.TB, s *apptest.Server) []access.Event {
	t.Helper()
	var out struct{ Events []access.Event }
	require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/audit?organization_id="+app.DemoOrganizationID+"&limit=1000", nil, &out))
	return out.Events
}

func events(list []access.Event, action string) []access.Event {
	var out []access.Event
	for _, e := range list {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// TestPasswordSignIn signs in with each kind of credential, on both
// engines: the right password reaches /admin and says who is signed in;
// a wrong password, an unknown email and an invited user without a
// password get the same answer; a disabled user is told so. Each attempt
// is in the audit log.
func TestPasswordSignIn(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
		off := newUser(t, s, "off@demo.example", "Otto Off", "viewer", password)
		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/users/"+off, map[string]any{"disabled": true}, nil))
		newUser(t, s, "sso@demo.example", "Sam Sso", "billing", "")

		tests := []struct {
			name, email, password string
			status                int
			want                  string
		}{
			{name: "right password", email: "ada@demo.example", password: password, status: 200, want: "Signed in as Ada Admin (admin) of Demo Corp"},
			{name: "a demo user", email: app.DemoAdminEmail, password: app.DemoAdminPassword, status: 200, want: "Signed in as Dana Admin (admin) of Demo Corp"},
			{name: "email in another case", email: " Ada@Demo.Example ", password: password, status: 200, want: "Signed in as Ada Admin"},
			{name: "wrong password", email: "ada@demo.example", password: "not the password", status: 401, want: "Wrong email or password"},
			{name: "unknown email", email: "nobody@demo.example", password: password, status: 401, want: "Wrong email or password"},
			{name: "invited, no password", email: "sso@demo.example", password: password, status: 401, want: "Wrong email or password"},
			{name: "disabled", email: "off@demo.example", password: password, status: 403, want: "This account is disabled: ask your organization&#39;s admin."},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := newBrowser(t, s)
				got := b.login(tc.email, tc.password)
				assert.Equal(t, tc.status, got.status, got.body)
				assert.Contains(t, got.body, tc.want)
				if tc.status == 200 {
					assert.Equal(t, s.URL+"/admin", got.url)
					assert.Contains(t, got.body, `<form method="post" action="/admin/logout">`)
				} else {
					assert.Contains(t, got.body, `<label for="email">Email</label>`, "the form again")
					assert.Empty(t, b.cookie(), "no session")
					assert.Equal(t, s.URL+"/admin/login", b.get("/admin").url, "not signed in")
				}
			})
		}

		log := audit(t, s)
		in := events(log, "user.sign_in")
		require.Len(t, in, 3)
		assert.Equal(t, "user", in[0].Actor.Kind)
		assert.Equal(t, "127.0.0.1", in[0].Source)
		assert.Equal(t, "password", in[0].Changes["method"].After)
		failed := events(log, "user.sign_in_failed")
		require.Len(t, failed, 3, "the unknown email is no organization's")
		reasons := map[string]any{}
		for _, e := range failed {
			assert.Equal(t, "anonymous", e.Actor.Kind)
			assert.Equal(t, "127.0.0.1", e.Source)
			reasons[e.Changes["email"].After.(string)] = e.Changes["reason"].After
		}
		assert.Equal(t, map[string]any{"ada@demo.example": "wrong password", "sso@demo.example": "no password: single sign-on only", "off@demo.example": "disabled"}, reasons)
	})
}

// TestSignInRateLimited: an account that failed too often is refused,
// even with the right password, until its wait is over; so is a source
// address that failed too often, whatever account it tries. On both
// engines; the clock moves instead of the test sleeping.
func TestSignInRateLimited(t *testing.T) {
	t.Run("per account", func(t *testing.T) {
		clock := apptest.NewClock(time.Now())
		apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
			newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
			b := newBrowser(t, s)
			for range 10 {
				require.Equal(t, 401, b.login("ada@demo.example", "wrong guess!").status)
			}
			got := b.login("ADA@demo.example", password)
			assert.Equal(t, 429, got.status)
			assert.Contains(t, got.body, "Too many attempts, wait 1 minute, then try again.")
			assert.Equal(t, "60", got.header.Get("Retry-After"))
			assert.Equal(t, 401, b.login("grace@demo.example", password).status, "another account is not limited")

			clock.Advance(time.Minute)
			got = b.login("ada@demo.example", password)
			assert.Equal(t, 200, got.status, got.body)
			assert.Contains(t, got.body, "Signed in as Ada Admin")
		}, apptest.WithClock(clock))
	})
	t.Run("per source", func(t *testing.T) {
		clock := apptest.NewClock(time.Now())
		apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
			newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
			b := newBrowser(t, s)
			for _, email := range []string{"a@demo.example", "b@demo.example", "c@demo.example"} {
				require.Equal(t, 401, b.login(email, "wrong guess!").status)
			}
			got := b.login("ada@demo.example", password)
			assert.Equal(t, 429, got.status)
			assert.Contains(t, got.body, "Too many attempts, wait 30 seconds, then try again.")

			clock.Advance(30 * time.Second)
			assert.Equal(t, 200, b.login("ada@demo.example", password).status)
			assert.Len(t, events(audit(t, s), "user.sign_in"), 1, "the refused attempt was not a sign-in")
		}, apptest.WithClock(clock), apptest.WithAuthFailureLimit(1.0/30, 3))
	})
}

// TestSessionCookie: the cookie is HttpOnly and SameSite=Lax; with an
// https base URL it is Secure too, and named with the __Host- prefix
// (Path=/, no Domain), so no other host or plain-http page can set it.
func TestSessionCookie(t *testing.T) {
	tests := []struct {
		name, base, cookie string
		secure             bool
	}{
		{name: "http", cookie: "punchout_console"},
		{name: "https", base: "https://gateway.example", cookie: "__Host-punchout_console", secure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []apptest.Option
			if tc.base != "" {
				opts = append(opts, func(c *app.Config) { c.BaseURL = tc.base })
			}
			s := apptest.Start(t, sqliteDSN(t), opts...)
			newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.PostForm(s.URL+"/admin/login", url.Values{"email": {"ada@demo.example"}, "password": {password}})
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			assert.Equal(t, "/admin", resp.Header.Get("Location"))
			cookies := resp.Cookies()
			require.Len(t, cookies, 1, resp.Header.Values("Set-Cookie"))
			ck := cookies[0]
			assert.Equal(t, tc.cookie, ck.Name)
			assert.True(t, ck.HttpOnly, "HttpOnly")
			assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
			assert.Equal(t, tc.secure, ck.Secure, "Secure")
			assert.Equal(t, "/", ck.Path)
			assert.Empty(t, ck.Domain)
			assert.Len(t, ck.Value, 43, "32 random bytes")
		})
	}
}

// TestSessionEnds: a session ends when idle for longer than the timeout
// (the clock moves), at sign-out (its token no longer works, replayed),
// and when its user is disabled. None of it is left in the store.
func TestSessionEnds(t *testing.T) {
	clock := apptest.NewClock(time.Now())
	s := apptest.Start(t, sqliteDSN(t), apptest.WithClock(clock), func(c *app.Config) { c.SessionIdleTimeout = time.Hour })
	ada := newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
	signedIn := func(b *browser) bool {
		t.Helper()
		got := b.get("/admin")
		require.Equal(t, 200, got.status)
		return strings.Contains(got.body, "Signed in as Ada Admin")
	}

	t.Run("idle", func(t *testing.T) {
		b := newBrowser(t, s)
		require.Equal(t, 200, b.login("ada@demo.example", password).status)
		clock.Advance(50 * time.Minute)
		assert.True(t, signedIn(b), "used within the hour")
		clock.Advance(50 * time.Minute)
		assert.True(t, signedIn(b), "100 minutes after sign-in, but used 50 minutes ago")
		clock.Advance(61 * time.Minute)
		assert.False(t, signedIn(b), "idle for 61 minutes")
	})

	t.Run("sign-out", func(t *testing.T) {
		b := newBrowser(t, s)
		require.Equal(t, 200, b.login("ada@demo.example", password).status)
		token := b.cookie()
		require.NotEmpty(t, token)
		got := b.post("/admin/logout", nil)
		assert.Equal(t, s.URL+"/admin/login", got.url)
		assert.Contains(t, got.body, "Sign in")
		assert.Empty(t, b.cookie(), "the cookie is deleted")

		replay := newBrowser(t, s)
		u, _ := url.Parse(s.URL)
		replay.jar.SetCookies(u, []*http.Cookie{{Name: "punchout_console", Value: token}})
		assert.False(t, signedIn(replay), "the old token, replayed, is worth nothing: the session is gone from the store")
		assert.Len(t, events(audit(t, s), "user.sign_out"), 1)
	})

	t.Run("disabled", func(t *testing.T) {
		b := newBrowser(t, s)
		require.Equal(t, 200, b.login("ada@demo.example", password).status)
		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/users/"+ada, map[string]any{"disabled": true}, nil))
		assert.False(t, signedIn(b), "a disabled user's session stops working")
		require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/users/"+ada, map[string]any{"disabled": false}, nil))
		assert.False(t, signedIn(b), "and stays ended")
	})

	clock.Advance(2 * time.Hour)
	n, err := s.App.ConsoleSessions.Purge(context.Background())
	require.NoError(t, err)
	var left int
	require.NoError(t, s.App.DB.R.Get(&left, `SELECT COUNT(*) FROM console_sessions`))
	assert.Zero(t, left, "purged %d", n)
}

// TestCrossOriginFormsRefused: a form posted to /admin from another
// origin is refused before it is read; the same post from the console's
// own origin, and a cross-site post to /cxml, are not.
func TestCrossOriginFormsRefused(t *testing.T) {
	s := apptest.Start(t, sqliteDSN(t))
	newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
	creds := url.Values{"email": {"ada@demo.example"}, "password": {password}}
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{name: "Sec-Fetch-Site cross-site", header: []string{"Sec-Fetch-Site", "cross-site"}, status: 403},
		{name: "Sec-Fetch-Site same-site", header: []string{"Sec-Fetch-Site", "same-site"}, status: 403},
		{name: "Origin of another host", header: []string{"Origin", "http://evil.example"}, status: 403},
		{name: "same origin", header: []string{"Sec-Fetch-Site", "same-origin", "Origin", s.URL}, status: 200},
		{name: "no browser headers (a script)", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s)
			got := b.post("/admin/login", creds, tc.header...)
			assert.Equal(t, tc.status, got.status, got.body)
			if tc.status == 403 {
				assert.Contains(t, got.body, "this form was sent from another site")
				assert.Empty(t, b.cookie())
			}
		})
	}
	b := newBrowser(t, s)
	got := b.post("/admin/login", url.Values{"email": {"ada@demo.example"}, "password": {strings.Repeat("x", 100<<10)}})
	assert.Equal(t, 413, got.status, "a form larger than a sign-in")
	got = b.post("/cxml", nil, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, 200, got.status)
	assert.Contains(t, got.body, "<cXML")
}
