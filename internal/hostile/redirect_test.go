package hostile

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/punchout"
)

// recorder is a loopback stand-in for a web server that keeps every
// request it gets, body included, and answers with answer.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path\n\nbody"
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path+"\n\n"+string(b))
		r.mu.Unlock()
		answer(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

var checkoutField = regexp.MustCompile(`name="` + punchout.FieldURLEncoded + `" value="([^"]*)"`)

// orderAnnualContract punches out as the demo Coupa connection, puts
// offer in the cart through the punchout pages' forms, checks out, and
// posts the OrderRequest Coupa would send for the returned cart's lines
// as PO poNumber.
func orderAnnualContract(t *testing.T, s *apptest.Server, offer, poNumber string) {
	t.Helper()
	_, doc := s.PostCXML(t, coupaDoc("redirect-setup@hostile", "coupa-demo-secret", `<PunchOutSetupRequest operation="create">
      <BuyerCookie>redirect-cookie</BuyerCookie>
      <Extrinsic name="UserEmail">dana@democorp.example</Extrinsic>
      <BrowserFormPost><URL>https://demo.coupahost.com/punchout/checkout?id=27</URL></BrowserFormPost>
      <Contact role="endUser"><Name xml:lang="en-US">Dana Whitfield</Name><Email>dana@democorp.example</Email></Contact>
    </PunchOutSetupRequest>`))
	require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
	setup, ok := doc.Response.Body.(*cxml.PunchOutSetupResponse)
	require.True(t, ok, "a PunchOutSetupResponse")
	start := setup.StartPageURL

	post := func(path string, form url.Values) string {
		resp, err := http.PostForm(start+path, form)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		return string(b)
	}
	post("/cart", url.Values{"offer_id": {offer}, "action": {"request-approval"}})
	m := checkoutField.FindStringSubmatch(post("/checkout", url.Values{"action": {"checkout"}}))
	require.NotNil(t, m, "the checkout page carries the cart in %s", punchout.FieldURLEncoded)
	cart, err := cxml.Parse([]byte(html.UnescapeString(m[1])), cxml.Limits{})
	require.NoError(t, err)
	msg, ok := cart.Message.Body.(*cxml.PunchOutOrderMessage)
	require.True(t, ok, "a PunchOutOrderMessage")
	require.NotEmpty(t, msg.Items)

	var lines strings.Builder
	for i, it := range msg.Items {
		money := fmt.Sprintf(`<Money currency="%s">%s</Money>`, it.ItemDetail.UnitPrice.Currency, it.ItemDetail.UnitPrice.String())
		fmt.Fprintf(&lines, `<ItemOut quantity="%s" lineNumber="%d">
      <ItemID><SupplierPartID>%s</SupplierPartID><SupplierPartAuxiliaryID>%s</SupplierPartAuxiliaryID></ItemID>
      <ItemDetail><UnitPrice>%s</UnitPrice><Description xml:lang="en">%s</Description><UnitOfMeasure>EA</UnitOfMeasure>
        <Classification domain="UNSPSC">%s</Classification></ItemDetail>
      <Distribution><Accounting name="acct"><Segment type="Account" id="6100" description="Software"/></Accounting><Charge>%s</Charge></Distribution>
    </ItemOut>`, it.Quantity.String(), i+1, it.ItemID.SupplierPartID, it.ItemID.SupplierPartAuxiliaryID,
			money, it.ItemDetail.Description(), it.ItemDetail.Classifications[0].Value, money)
	}
	_, doc = s.PostCXML(t, coupaDoc("redirect-order@hostile", "coupa-demo-secret", fmt.Sprintf(`<OrderRequest>
    <OrderRequestHeader orderID=%q orderDate="2026-11-23T09:59:00-05:00" type="new">
      <Total><Money currency="USD">0</Money></Total>
      <ShipTo><Address addressID="HQ"><Name xml:lang="en">Demo Corp HQ</Name></Address></ShipTo>
      <BillTo><Address addressID="AP"><Name xml:lang="en">Demo Corp Accounts Payable</Name></Address></BillTo>
      <Contact role="endUser"><Name xml:lang="en">Dana Whitfield</Name><Email>dana@democorp.example</Email></Contact>
    </OrderRequestHeader>
    %s
  </OrderRequest>`, poNumber, lines.String())))
	require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
}

// TestRedirectingInvoiceEndpointGetsNoSecret points the demo Coupa
// connection's e-invoicing endpoint at a server that answers every POST
// with a 307, 302 or 308 redirect to a second server, the attacker's,
// and delivers the out-of-cycle invoice of an annual contract ordered
// through the punchout pages. Before, Go's http.Client followed the
// redirect: on a 307 or 308 it posted the InvoiceDetailRequest again,
// SharedSecret and all, to the redirect target (on a 302, a GET). Now the
// attacker's server gets no request at all: the endpoint gets one POST,
// the invoice is parked as failed after that one attempt with a
// last_error saying the redirect was not followed, and neither the
// exchange log nor the invoice's stored cXML holds the secret.
func TestRedirectingInvoiceEndpointGetsNoSecret(t *testing.T) {
	const secret = "redirect-invoice-secret"
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusFound, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
				attacker := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
					doc, _ := cxml.Marshal(cxml.NewResponse("stolen@attacker", time.Now(), cxml.NewStatus(200, ""), nil))
					w.Write(doc)
				})
				endpoint := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, attacker.URL+"/collect", code)
				})
				require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
					"einvoice": map[string]any{"enabled": true, "endpoint": endpoint.URL + "/cxml/invoices", "shared_secret": secret},
				}, nil))
				orderAnnualContract(t, s, "offer-cloudsight-annual-contract", "PO-REDIRECT-1")

				var res map[string]any
				require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2027-01-31"}, &res))
				require.EqualValues(t, 1, res["out_of_cycle_invoices"], "the upfront fee")

				s.WaitJobs(t)
				n, err := s.App.Jobs.Pending(context.Background(), time.Now().Add(time.Hour))
				require.NoError(t, err)
				assert.Zero(t, n, "one attempt, then nothing is due")

				assert.Empty(t, attacker.requests(), "the redirect target gets no request")
				assert.NotContains(t, strings.Join(attacker.requests(), "\n"), secret, "the redirect target never sees the secret")
				got := endpoint.requests()
				require.Len(t, got, 1, "the endpoint gets one POST")
				assert.True(t, strings.HasPrefix(got[0], "POST /cxml/invoices\n"), got[0])
				assert.Contains(t, got[0], "<SharedSecret>"+secret+"</SharedSecret>", "the endpoint itself gets the secret")

				var list struct {
					Invoices []struct {
						ID       string `json:"id"`
						Delivery struct {
							Status    string `json:"status"`
							Attempts  int    `json:"attempts"`
							LastError string `json:"last_error"`
						} `json:"delivery"`
					} `json:"invoices"`
				}
				require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo", nil, &list))
				require.Len(t, list.Invoices, 1)
				inv := list.Invoices[0]
				assert.Equal(t, "failed", inv.Delivery.Status)
				assert.Equal(t, 1, inv.Delivery.Attempts)
				assert.Contains(t, inv.Delivery.LastError, fmt.Sprintf("HTTP %d redirect", code))
				assert.Contains(t, inv.Delivery.LastError, "not followed")

				req, err := http.NewRequest("GET", s.URL+"/api/v1/invoices/"+inv.ID+"/cxml", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer test-admin-token")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				stored, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, 200, resp.StatusCode, "%s", stored)
				assert.Contains(t, string(stored), "<InvoiceDetailRequest")
				assert.NotContains(t, string(stored), secret, "the invoice's stored cXML")

				var docs [][]byte
				require.NoError(t, s.App.DB.R.SelectContext(context.Background(), &docs, `SELECT document FROM exchanges`))
				require.NotEmpty(t, docs)
				for _, doc := range docs {
					if bytes.Contains(doc, []byte(secret)) {
						t.Errorf("the exchange log holds the invoice secret: %s", doc)
					}
				}
			})
		})
	}
}
