package punchout_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/browsertest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
	"github.com/cxmlgate/punchout/punchout"
)

// buyer stands in for the procurement system: it receives the cart the
// user's browser posts to the BrowserFormPost URL.
type buyer struct {
	srv   *httptest.Server
	carts chan url.Values
}

func newBuyer(t *testing.T) *buyer {
	b := &buyer{carts: make(chan url.Values, 4)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b.carts <- r.PostForm
		io.WriteString(w, `<!doctype html><html lang="en"><title>Requisition</title><h1 id="received">Cart received</h1></html>`)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *buyer) cart(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-b.carts:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("the procurement system received no cart")
		return nil
	}
}

// setupRequest is a Coupa-flavoured (or Ariba-flavoured) setup request
// posting back to formPost.
func setupRequest(system, payloadID, operation, cookie, formPost, itemOut string) []byte {
	header := `<From><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>081254817</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity><SharedSecret>coupa-demo-secret</SharedSecret></Credential><UserAgent>Coupa Procurement 1.0</UserAgent></Sender>`
	extrinsics := `<Extrinsic name="FirstName">Dana</Extrinsic><Extrinsic name="LastName">Whitfield</Extrinsic>
      <Extrinsic name="UniqueName">dana.whitfield</Extrinsic><Extrinsic name="UserEmail">dana@democorp.example</Extrinsic>
      <Extrinsic name="User">dwhitfield</Extrinsic><Extrinsic name="BusinessUnit">Engineering</Extrinsic>`
	if system == "ariba" {
		header = `<From><Credential domain="NetworkId"><Identity>AN01000000001-T</Identity></Credential></From>
    <To><Credential domain="NetworkId"><Identity>AN01000000002-T</Identity></Credential></To>
    <Sender><Credential domain="AribaNetworkUserId"><Identity>sysadmin@ariba.com</Identity><SharedSecret>ariba-demo-secret</SharedSecret></Credential><UserAgent>Ariba Network 1.2</UserAgent></Sender>`
		extrinsics = `<Extrinsic name="UniqueName">ROVENSKY,VITALY</Extrinsic><Extrinsic name="UserEmail">vitaly@democorp.example</Extrinsic>`
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID=%q timestamp="2026-11-23T09:00:00-05:00" xml:lang="en-US">
  <Header>%s</Header>
  <Request><PunchOutSetupRequest operation=%q>
      <BuyerCookie>%s</BuyerCookie>
      %s
      <BrowserFormPost><URL>%s</URL></BrowserFormPost>
      <Contact role="endUser"><Name xml:lang="en-US">Dana Whitfield</Name><Email>dana@democorp.example</Email></Contact>
      %s
  </PunchOutSetupRequest></Request>
</cXML>`, payloadID, header, operation, cookie, extrinsics, formPost, itemOut))
}

func startPage(t testing.TB, s *apptest.Server, body []byte) string {
	t.Helper()
	_, doc := s.PostCXML(t, body)
	require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
	resp, ok := doc.Response.Body.(*cxml.PunchOutSetupResponse)
	require.True(t, ok, "a PunchOutSetupResponse")
	require.True(t, strings.HasPrefix(resp.StartPageURL, s.URL+"/punchout/s/"), resp.StartPageURL)
	return resp.StartPageURL
}

func requestButton(offerID string) chromedp.CSS {
	return chromedp.CSS(`form:has(input[name="offer_id"][value="` + offerID + `"]) button[name="action"][value="request-approval"]`)
}

// TestBrowserPunchoutToCheckout drives headless Chromium the way a Coupa
// user goes: from the StartPage, search, request approval for three offers,
// open the cart, return it, and land at the buyer's BrowserFormPost URL
// with a DTD-valid PunchOutOrderMessage that obeys the cart rules.
func TestBrowserPunchoutToCheckout(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	b := newBuyer(t)
	formPost := b.srv.URL + "/punchout/checkout?id=27"
	start := startPage(t, s, setupRequest("coupa", "browser-1@coupa", "create", "c0ffee-cookie-42", formPost, ""))

	ctx := browsertest.New(t, 90*time.Second)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(start),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "observability"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/products/prod-cloudsight"]`)),
		chromedp.Click(requestButton("offer-cloudsight-annual-contract")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="checkout"]`)),
		chromedp.Navigate(start),
		chromedp.Click(requestButton("offer-cloudsight-payg")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="checkout"]`)),
		chromedp.Navigate(start),
		chromedp.Click(requestButton("offer-ledgerflow-private-fps")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="checkout"]`)),
	))
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	require.NoError(t, err)
	assert.Equal(t, "Your cart", heading)
	cartText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, cartText, "USD 159,000.00", "cart total: 24,000 + 10,000 blanket + 125,000 FPS")
	if dir := os.Getenv("PUNCHOUT_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cart.png"), png, 0o644))
	}

	// Professional services and AMI/container contracts offer no action.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.CSS("#q"))))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="offer_id"][value="offer-migration-assessment"], input[name="offer_id"][value="offer-hardened-linux-contract"], input[name="offer_id"][value="offer-kubeguard-contract"]').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "unsupported combinations have no request-approval form")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(start+"/cart"),
		chromedp.Click(chromedp.CSS(`button[name="action"][value="checkout"]`)),
		chromedp.WaitVisible(chromedp.CSS("#received")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, formPost, loc, "the browser landed at the buyer's BrowserFormPost URL")

	form := b.cart(t)
	raw := form.Get(punchout.FieldURLEncoded)
	require.NotEmpty(t, raw, "the cart comes in cxml-urlencoded: %v", form)
	cxmltest.Validate(t, []byte(raw))
	doc, err := cxml.Parse([]byte(raw), cxml.Limits{})
	require.NoError(t, err)
	msg, ok := doc.Message.Body.(*cxml.PunchOutOrderMessage)
	require.True(t, ok)
	assert.Equal(t, "c0ffee-cookie-42", msg.BuyerCookie)
	assert.Equal(t, "edit", msg.OperationAllowed)
	assert.Equal(t, "159000.00", msg.Total.String())
	assert.Equal(t, "USD", msg.Total.Currency)
	require.Len(t, msg.Items, 3)
	want := map[string]string{
		"offer-cloudsight-annual-contract": "24000.00",
		"offer-cloudsight-payg":            "10000.00",
		"offer-ledgerflow-private-fps":     "125000.00",
	}
	for _, it := range msg.Items {
		assert.Equal(t, want[it.ItemID.SupplierPartID], it.ItemDetail.UnitPrice.String(), it.ItemID.SupplierPartID)
		assert.Equal(t, "1", it.Quantity.String())
		assert.Equal(t, "EA", it.ItemDetail.UnitOfMeasure)
		require.NotEmpty(t, it.ItemDetail.Classifications)
		assert.Equal(t, "UNSPSC", it.ItemDetail.Classifications[0].Domain)
		assert.NotEmpty(t, it.ItemDetail.ManufacturerName)
		assert.Equal(t, "en-US", it.ItemDetail.Descriptions[0].Lang)
		q, err := punchout.DecodeQuote(s.App.Keys, it.ItemID.SupplierPartAuxiliaryID)
		require.NoError(t, err, "the SupplierPartAuxiliaryID is a quote reference signed by the gateway")
		assert.Equal(t, it.ItemID.SupplierPartID, q.OfferID)
		assert.NotEmpty(t, cxml.ExtrinsicValue(it.ItemDetail.Extrinsics, "PricingModel"))
		assert.NotEmpty(t, cxml.ExtrinsicValue(it.ItemDetail.Extrinsics, "Term"))
	}
	assert.Equal(t, "2030-12-31T23:59:59Z", cxml.ExtrinsicValue(msg.Items[2].ItemDetail.Extrinsics, "OfferExpiry"))

	// The return ended the session: back on its pages, the user reads
	// where the cart went, with nothing left to submit.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.CSS("h1"))))
	heading, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	require.NoError(t, err)
	assert.Equal(t, "Your cart went back to Coupa", heading)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, text, "This punchout session ended when its cart was returned to Coupa")
	assert.Contains(t, text, "open the requisition in Coupa and edit the cart there")
	n, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to submit")
}

// TestBrowserAribaBase64WithoutJavaScript returns an Ariba cart in
// cxml-base64 with JavaScript off: the user presses the checkout page's
// button instead of the script submitting it.
func TestBrowserAribaBase64WithoutJavaScript(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	b := newBuyer(t)
	formPost := b.srv.URL + "/Buyer/Main/ad/punchoutReturn?sessionid=abc"
	start := startPage(t, s, setupRequest("ariba", "browser-2@ariba", "create", "ariba-cookie-7", formPost, ""))

	ctx := browsertest.New(t, 90*time.Second)
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(start),
		chromedp.Click(requestButton("offer-weather-annual")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="checkout"]`)),
		chromedp.Click(chromedp.CSS(`button[name="action"][value="checkout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cxml-return button`)),
		chromedp.Click(chromedp.CSS(`#cxml-return button`)),
		chromedp.WaitVisible(chromedp.CSS("#received")),
	))
	form := b.cart(t)
	enc := form.Get(punchout.FieldBase64)
	require.NotEmpty(t, enc, "the Ariba connection returns carts in cxml-base64: %v", form)
	raw, err := base64.StdEncoding.DecodeString(enc)
	require.NoError(t, err)
	cxmltest.Validate(t, raw)
	doc, err := cxml.Parse(raw, cxml.Limits{})
	require.NoError(t, err)
	msg := doc.Message.Body.(*cxml.PunchOutOrderMessage)
	assert.Equal(t, "ariba-cookie-7", msg.BuyerCookie)
	require.Len(t, msg.Items, 1)
	assert.Equal(t, "6000.00", msg.Items[0].ItemDetail.UnitPrice.String())
	assert.Equal(t, "EUR", msg.Total.Currency)
}
