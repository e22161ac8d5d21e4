package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/browsertest"
)

// labelled is the id of the input whose visible label reads text.
const labelled = `(text) => [...document.querySelectorAll('label')].find(l => l.textContent.trim() === text)?.control?.id ?? ''`

// TestBrowserSignIn: in a real headless Chromium (which sends its own
// Sec-Fetch-Site and Origin headers, so the cross-origin check sees what
// it will see in production), a person fills the form by its labels and
// lands on /admin, signs out, and signs in again with the SSO button.
func TestBrowserSignIn(t *testing.T) {
	m, withOIDC := provider(t)
	s := apptest.Start(t, sqliteDSN(t), withOIDC)
	newUser(t, s, "ada@demo.example", "Ada Admin", "admin", password)
	newUser(t, s, "ivy@demo.example", "Ivy Invited", "billing", "")

	ctx := browsertest.New(t, 90*time.Second)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("form"))))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, s.URL+"/admin/login", loc, "not signed in: sent to the sign-in page")
	email, err := chromedp.Run(ctx, chromedp.Evaluate[string]("("+labelled+")('Email')"))
	require.NoError(t, err)
	pw, err := chromedp.Run(ctx, chromedp.Evaluate[string]("("+labelled+")('Password')"))
	require.NoError(t, err)
	require.NotEmpty(t, email, "an input labelled Email")
	require.NotEmpty(t, pw, "an input labelled Password")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#"+email), "ada@demo.example"),
		chromedp.SendKeys(chromedp.CSS("#"+pw), password),
		chromedp.Submit(chromedp.CSS("#"+pw)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, s.URL+"/admin", loc)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, text, "Signed in as Ada Admin (admin) of Demo Corp")

	m.QueueUser(&mockoidc.MockUser{Subject: "ivy-1", Email: "ivy@demo.example", EmailVerified: true})
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/oidc/start"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/admin/oidc/start"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
	))
	text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, text, "Signed in as Ivy Invited (billing) of Demo Corp")
}
