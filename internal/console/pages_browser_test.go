package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/browsertest"
)

// byLabel is the CSS selector of the input whose visible label reads
// text; it fails the test when there is none.
func byLabel(t *testing.T, ctx context.Context, text string) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string]("("+labelled+")("+fmt.Sprintf("%q", text)+")"))
	require.NoError(t, err)
	require.NotEmpty(t, id, "an input labelled %q", text)
	return "#" + id
}

// setupValue is the value shown beside a label of the setup panel's
// part titled part.
const setupValue = `(part, label) => {
  const h = [...document.querySelectorAll('#setup h3')].find(h => h.textContent.trim() === part);
  const dt = [...h.parentElement.querySelectorAll('dt')].find(d => d.textContent.trim() === label);
  return dt?.nextElementSibling?.querySelector('code')?.textContent ?? '';
}`

func signInAs(t *testing.T, ctx context.Context, base, email, pw string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/admin/login"), chromedp.WaitVisible(chromedp.CSS("form"))))
	emailSel, pwSel := byLabel(t, ctx, "Email"), byLabel(t, ctx, "Password")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(emailSel), email),
		chromedp.SendKeys(chromedp.CSS(pwSel), pw),
		chromedp.Submit(chromedp.CSS(pwSel)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
	))
}

// TestBrowserConnections: in headless Chromium, the demo admin signs in,
// creates a Coupa connection through the form by its labels, reads the
// Coupa panel (the Punchout URL, the credentials and the secret shown
// once, each with a working copy button), sends a test and opens its
// StartPage; a form posted to the console from another origin is
// refused; another organization's admin opening the connection by its
// URL gets 404.
func TestBrowserConnections(t *testing.T) {
	s := apptest.Start(t, sqliteDSN(t))
	newOther(t, s)
	ctx := browsertest.New(t, 2*time.Minute)
	signInAs(t, ctx, s.URL, app.DemoAdminEmail, app.DemoAdminPassword)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/admin/connections"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/connections/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/admin/connections/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/connections"]`)),
	))
	for label, value := range map[string]string{
		"Name": "Acme Coupa", "Buyer domain (From)": "NetworkID", "Buyer identity (From)": "AcmeCoupa",
		"Supplier domain (To)": "DUNS", "Supplier identity (To)": "081254817",
	} {
		require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(byLabel(t, ctx, label)), value)), label)
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/admin/connections"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#setup")),
	))
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#h-setup")))
	require.NoError(t, err)
	assert.Equal(t, "Set up in Coupa", heading)
	value := func(part, label string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string]("("+setupValue+")("+fmt.Sprintf("%q, %q", part, label)+")"))
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, s.URL+"/cxml", value("Punchout site", "Punchout URL"))
	assert.Equal(t, "DUNS", value("Punchout site", "Domain"))
	assert.Equal(t, "081254817", value("Punchout site", "Identity"))
	assert.Equal(t, "NetworkID", value("Punchout site", "Sender Domain"))
	assert.Equal(t, "AcmeCoupa", value("Punchout site", "Sender Identity"))
	assert.Equal(t, "cxml", value("Punchout site", "Protocol"))
	assert.Equal(t, s.URL+"/cxml", value("cXML purchase orders", "PO URL"))
	assert.Equal(t, "AcmeCoupa", value("cXML purchase orders", "Our Identity"))
	secret := value("Punchout site", "Secret")
	assert.Len(t, secret, 32, "a generated secret, shown this once")
	assert.Equal(t, secret, value("cXML purchase orders", "Shared Secret"))

	visible, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#setup button[data-copy]:not([hidden])').length`))
	require.NoError(t, err)
	assert.Equal(t, 14, visible, "with JavaScript on, every value has its copy button")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#setup button[data-copy="setup-1"]`))))
	copied, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const t = document.querySelector('#setup button[data-copy="setup-1"]').textContent; return t === 'Copied' ? t : null; })()`, chromedp.WithPollingTimeout(3*time.Second)))
	require.NoError(t, err)
	assert.Equal(t, "Copied", copied)

	// The test form has the secret this once; it posts a setup request.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#test button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#test [role=status]`)),
	))
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#test [role=status]`)))
	require.NoError(t, err)
	assert.Contains(t, result, "The gateway answered 200 OK: these credentials work.")
	start, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#test a[href*="/punchout/s/"]').href`))
	require.NoError(t, err)
	rotate, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('form[action$="/rotate"]').getAttribute('action')`))
	require.NoError(t, err)
	connPage := s.URL + strings.TrimSuffix(rotate, "/rotate")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.CSS("#q"))), "the StartPage opens the catalog")

	// A page on another origin posts a form to the console: refused, and
	// nothing rotated.
	id := connPage[len(s.URL+"/admin/connections/"):]
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/admin/connections/%s/rotate"><button>Win a prize</button></form>`, s.URL, id)
	}))
	t.Cleanup(evil.Close)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(evil.URL),
		chromedp.Click(chromedp.CSS("button")),
		chromedp.WaitVisible(chromedp.CSS("main p")),
	))
	refused, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, refused, "this form was sent from another site, so it was refused")
	for _, e := range audit(t, s) {
		assert.False(t, e.ObjectID == id && e.Action == "connection.update", "no rotation from another origin")
	}

	// Another organization's admin, by URL: 404, as if it did not exist.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/login"]`))))
	signInAs(t, ctx, s.URL, "olga@other.example", password)
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(connPage))
	require.NoError(t, err)
	assert.EqualValues(t, http.StatusNotFound, resp.Status)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, text, "connection "+id+" not found")
	assert.NotContains(t, text, "Acme Coupa")
}

// TestBrowserResend: in headless Chromium, the demo billing person
// filters the invoices by delivery status, opens the failed one and
// presses Resend.
func TestBrowserResend(t *testing.T) {
	s := apptest.Start(t, sqliteDSN(t))
	sentInvoice(t, s, "inv_demo_failed", app.DemoOrganizationID, "failed")
	sentInvoice(t, s, "inv_demo_delivered", app.DemoOrganizationID, "delivered")
	ctx := browsertest.New(t, time.Minute)
	signInAs(t, ctx, s.URL, app.DemoBillingEmail, app.DemoBillingPassword)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/admin/invoices"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Filter invoices"]`)),
	))
	sel := byLabel(t, ctx, "Delivery status")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(sel), "failed"),
		chromedp.Submit(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/invoices/inv_demo_failed"]`)),
	))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main table")))
	require.NoError(t, err)
	assert.NotContains(t, text, "inv_demo_delivered")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/admin/invoices/inv_demo_failed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/resend"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/resend"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`main .notice`)),
	))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main .notice`)))
	require.NoError(t, err)
	assert.Contains(t, notice, "The invoice is queued to be sent again")
}
