package punchout_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/smtptest"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/punchout"
)

// orderFromCart turns a returned cart into the OrderRequest Coupa sends
// after approval: the cart's lines as ItemOut, the orderID its PO number.
func orderFromCart(system, payloadID, orderID, typ, docRef string, items []cxml.ItemIn) []byte {
	header := `<From><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity></Credential></From>
    <To><Credential domain="DUNS"><Identity>081254817</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>DemoCorpCoupa</Identity><SharedSecret>coupa-demo-secret</SharedSecret></Credential><UserAgent>Coupa Procurement 1.0</UserAgent></Sender>`
	if system == "ariba" {
		header = `<From><Credential domain="NetworkId"><Identity>AN01000000001-T</Identity></Credential></From>
    <To><Credential domain="NetworkId"><Identity>AN01000000002-T</Identity></Credential></To>
    <Sender><Credential domain="AribaNetworkUserId"><Identity>sysadmin@ariba.com</Identity><SharedSecret>ariba-demo-secret</SharedSecret></Credential><UserAgent>Ariba Network 1.2</UserAgent></Sender>`
	}
	var lines strings.Builder
	total := "0"
	currency := "USD"
	for i, it := range items {
		currency = it.ItemDetail.UnitPrice.Currency
		fmt.Fprintf(&lines, `<ItemOut quantity="%s" lineNumber="%d">
      <ItemID><SupplierPartID>%s</SupplierPartID><SupplierPartAuxiliaryID>%s</SupplierPartAuxiliaryID></ItemID>
      <ItemDetail><UnitPrice><Money currency="%s">%s</Money></UnitPrice>
        <Description xml:lang="en">%s</Description><UnitOfMeasure>EA</UnitOfMeasure>
        <Classification domain="UNSPSC">%s</Classification>
        <Extrinsic name="LineType">Quantity</Extrinsic></ItemDetail>
      <Distribution><Accounting name="acct"><Segment type="Account" id="6100" description="Software"/></Accounting><Charge><Money currency="%s">%s</Money></Charge></Distribution>
    </ItemOut>`, it.Quantity.String(), i+1, it.ItemID.SupplierPartID, it.ItemID.SupplierPartAuxiliaryID,
			currency, it.ItemDetail.UnitPrice.String(), it.ItemDetail.Description(), it.ItemDetail.Classifications[0].Value,
			currency, it.ItemDetail.UnitPrice.String())
	}
	ref := ""
	if docRef != "" {
		ref = `<DocumentReference payloadID="` + docRef + `"/>`
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID=%q timestamp="2026-11-23T10:00:00-05:00" xml:lang="en-US">
  <Header>%s</Header>
  <Request deploymentMode="production"><OrderRequest>
    <OrderRequestHeader orderID=%q orderDate="2026-11-23T09:59:00-05:00" type=%q>
      <Total><Money currency=%q>%s</Money></Total>
      <ShipTo><Address addressID="HQ"><Name xml:lang="en">Demo Corp HQ</Name></Address></ShipTo>
      <BillTo><Address addressID="AP"><Name xml:lang="en">Demo Corp Accounts Payable</Name></Address></BillTo>
      <Contact role="endUser"><Name xml:lang="en">Dana Whitfield</Name><Email>dana@democorp.example</Email></Contact>
      %s
      <Extrinsic name="legacy_po"></Extrinsic>
    </OrderRequestHeader>
    %s
  </OrderRequest></Request>
</cXML>`, payloadID, header, orderID, typ, currency, total, ref, lines.String()))
}

// cart punches out, requests the offers and returns the cart's lines.
func cart(t testing.TB, s *apptest.Server, system, cookie string, offers ...string) []cxml.ItemIn {
	t.Helper()
	start := startPage(t, s, setupRequest(system, "posr-"+cookie+"@x", "create", cookie, buyerURLFor(system), ""))
	sh := newShopper(t)
	for _, o := range offers {
		code, page := sh.request(start, o)
		require.Equal(t, 200, code, page)
	}
	_, _, doc := sh.checkout(start)
	return poom(t, doc).Items
}

func count(t testing.TB, s *apptest.Server, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.App.DB.R.Get(&n, `SELECT COUNT(*) FROM `+table))
	return n
}

func TestOrderCreatesAgreementsOnce(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		items := cart(t, s, "coupa", "ck-order", "offer-cloudsight-annual-contract", "offer-cloudsight-payg", "offer-ledgerflow-private-fps")
		order := orderFromCart("coupa", "order-1@coupa", "PO-2026-0042", "new", "", items)
		first, doc := s.PostCXML(t, order)
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		assert.Contains(t, doc.Response.Status.Detail, "3 agreements created")

		var list struct{ Agreements []invoicing.Agreement }
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo&po_number=PO-2026-0042", nil, &list))
		require.Len(t, list.Agreements, 3)
		byOffer := map[string]invoicing.Agreement{}
		for _, a := range list.Agreements {
			byOffer[a.OfferID] = a
			assert.Equal(t, "PO-2026-0042", a.PONumber)
			assert.Equal(t, "PO-2026-0042", a.OrderID)
			assert.Equal(t, "active", a.Status)
			assert.Equal(t, "dana@democorp.example", a.SubscriberEmail, "the subscribing user is the punchout user")
		}
		up := byOffer["offer-cloudsight-annual-contract"]
		assert.Equal(t, "24000.00", up.TotalContractValue.String())
		assert.Equal(t, up.StartDate[:4]+"-", up.StartDate[:5])
		assert.NotEmpty(t, up.EndDate)
		assert.Equal(t, "125000.00", byOffer["offer-ledgerflow-private-fps"].TotalContractValue.String())
		assert.Empty(t, byOffer["offer-cloudsight-payg"].TotalContractValue, "PAYG has no contract value")

		// The charge summary lists each charge with its PO number.
		var summary struct {
			Charges []struct {
				Kind, Fee, DueDate, Amount, Dimension string
				PONumber                              string `json:"po_number"`
			}
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements/"+byOffer["offer-ledgerflow-private-fps"].ID+"/charges", nil, &summary))
		require.Len(t, summary.Charges, 3)
		for _, c := range summary.Charges {
			assert.Equal(t, "installment", c.Kind)
			assert.Equal(t, "PO-2026-0042", c.PONumber)
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements/"+byOffer["offer-cloudsight-payg"].ID+"/charges", nil, &summary))
		require.Len(t, summary.Charges, 2, "one usage charge per dimension")
		assert.Equal(t, "", summary.Charges[0].PONumber, "usage has no PO until a usage PO is set")

		// The PO exists, created with default details and no contacts, with
		// the upfront line and the FPS zero-amount line; PAYG adds none.
		var po invoicing.PurchaseOrder
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-2026-0042?organization_id=org_demo", nil, &po))
		assert.Equal(t, "active", po.Status)
		assert.Empty(t, po.Contacts)
		require.Len(t, po.LineItems, 2)
		amounts := []string{po.LineItems[0].Amount.String(), po.LineItems[1].Amount.String()}
		assert.ElementsMatch(t, []string{"24000.00", "0.00"}, amounts)
		for _, li := range po.LineItems {
			assert.Equal(t, invoicing.LineMarketplaceTransaction, li.Type)
			assert.Empty(t, li.Balance)
		}

		// The same document again: the same answer, nothing new.
		again, _ := s.PostCXML(t, order)
		assert.Equal(t, string(first), string(again))
		// A manual resend with a new payloadID: success, nothing new.
		_, doc = s.PostCXML(t, orderFromCart("coupa", "order-1-resend@coupa", "PO-2026-0042", "new", "", items))
		assert.Equal(t, 200, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "received before")
		assert.Equal(t, 3, count(t, s, "agreements"))
		assert.Equal(t, 1, count(t, s, "outbox_mail"), "one mail to the subscriber, naming the three agreements, queued once")
	})
}

func TestConcurrentIdenticalOrdersCreateOneSet(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		items := cart(t, s, "coupa", "ck-race", "offer-cloudsight-annual-contract")
		const n = 6
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := orderFromCart("coupa", fmt.Sprintf("race-%d@coupa", i), "PO-RACE", "new", "", items)
				resp, err := http.Post(s.URL+"/cxml", "text/xml", bytes.NewReader(body))
				if err != nil {
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if d, err := cxml.Parse(b, cxml.Limits{}); err == nil {
					codes[i] = d.Response.Status.Code
				}
			}()
		}
		wg.Wait()
		for i, c := range codes {
			assert.Equal(t, 200, c, "post %d", i)
		}
		assert.Equal(t, 1, count(t, s, "agreements"))
		assert.Equal(t, 1, count(t, s, "po_line_items"))
	})
}

func TestOrderRefusalsChangeNothing(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		items := cart(t, s, "coupa", "ck-refuse", "offer-cloudsight-annual-contract", "offer-ledgerflow-private-fps")
		aribaItems := cart(t, s, "ariba", "ck-ariba", "offer-teamchat-free")
		withPrice := func(price string) []cxml.ItemIn {
			c := append([]cxml.ItemIn(nil), items...)
			d := c[0]
			d.ItemDetail.UnitPrice = cxml.Money{Amount: mustDec(price), Currency: "USD"}
			c[0] = d
			return c
		}
		tamper := func(f func(*cxml.ItemIn)) []cxml.ItemIn {
			c := append([]cxml.ItemIn(nil), items...)
			d := c[0]
			f(&d)
			c[0] = d
			return c
		}
		unsupported := punchout.QuoteRef{OfferID: "offer-migration-assessment", Revision: 1, SessionID: "x"}
		tests := []struct {
			name    string
			items   []cxml.ItemIn
			orderID string
			code    int
			detail  string
		}{
			{"price changed", withPrice("2400.00"), "PO-R1", 400, "does not match the quoted 24000.00 USD"},
			{"unsigned quote", tamper(func(i *cxml.ItemIn) { i.ItemID.SupplierPartAuxiliaryID = "ABC123" }), "PO-R2", 400, "not a quote reference issued by this gateway"},
			{"forged quote", tamper(func(i *cxml.ItemIn) {
				i.ItemID.SupplierPartAuxiliaryID = unsupported.Encode(s.App.Keys)
				i.ItemID.SupplierPartID = "offer-migration-assessment"
			}), "PO-R3", 403, ""},
			{"part ID swapped", tamper(func(i *cxml.ItemIn) { i.ItemID.SupplierPartID = "offer-cloudsight-payg" }), "PO-R4", 400, "does not match the quote reference"},
			{"quantity two", tamper(func(i *cxml.ItemIn) { i.Quantity = mustDec("2") }), "PO-R5", 400, "quantity 1"},
			{"another organization's quote", aribaOtherOrg(t, s, aribaItems), "PO-R6", 403, "not issued to your organization"},
			{"PO number too long", items, strings.Repeat("9", 201), 400, "longer than 200"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, doc := s.PostCXML(t, orderFromCart("coupa", "refuse-"+tc.name+"@coupa", tc.orderID, "new", "", tc.items))
				assert.Equal(t, tc.code, doc.Response.Status.Code, doc.Response.Status.Detail)
				assert.Contains(t, doc.Response.Status.Detail, tc.detail)
			})
		}
		noBillTo := strings.Replace(string(orderFromCart("coupa", "refuse-billto@coupa", "PO-R7", "new", "", items)),
			`<BillTo><Address addressID="AP"><Name xml:lang="en">Demo Corp Accounts Payable</Name></Address></BillTo>`, "", 1)
		_, doc := s.PostCXML(t, []byte(noBillTo))
		assert.Equal(t, 400, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "no BillTo")

		assert.Zero(t, count(t, s, "agreements"), "refused orders create no agreement")
		assert.Zero(t, count(t, s, "orders"))
		assert.Zero(t, count(t, s, "purchase_orders"))
		assert.Zero(t, count(t, s, "outbox_mail"))
	})
}

// aribaOtherOrg makes an Ariba cart of a second organization and returns
// its lines, to be ordered through the demo Coupa connection.
func aribaOtherOrg(t *testing.T, s *apptest.Server, _ []cxml.ItemIn) []cxml.ItemIn {
	t.Helper()
	var org struct{ ID string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Other Co"}, &org))
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": org.ID, "name": "Other", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "OtherCo"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "081254817"},
		"shared_secret":       "other-secret-1",
	}, nil))
	b := setupRequest("coupa", "other-posr@x", "create", "ck-other", buyerURL, "")
	b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "DemoCorpCoupa", "OtherCo"), "coupa-demo-secret", "other-secret-1"))
	start := startPage(t, s, b)
	sh := newShopper(t)
	code, _ := sh.request(start, "offer-cloudsight-annual-contract")
	require.Equal(t, 200, code)
	_, _, doc := sh.checkout(start)
	return poom(t, doc).Items
}

func TestExpiredOrRevisedOfferIsRefused(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	items := cart(t, s, "coupa", "ck-exp", "offer-ledgerflow-private-fps")
	revised := cart(t, s, "coupa", "ck-rev", "offer-cloudsight-annual-contract")

	// While approval is pending, the seller shortens the private offer's
	// expiry (to the past) and revises the other offer's price.
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	require.Equal(t, 200, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{"offers": []map[string]any{
		{"id": "offer-ledgerflow-private-fps", "product_id": "prod-ledgerflow", "pricing_model": "fps", "currency": "USD", "duration_months": 36,
			"schedule":                   []map[string]string{{"due": "2027-01-15", "amount": "40000.00"}, {"due": "2028-01-15", "amount": "40000.00"}, {"due": "2029-01-15", "amount": "45000.00"}},
			"private_to_organization_id": "org_demo", "expires_at": past},
		{"id": "offer-cloudsight-annual-contract", "product_id": "prod-cloudsight", "pricing_model": "upfront", "currency": "USD", "price": "24000.00", "duration_months": 24},
	}}, nil))

	_, doc := s.PostCXML(t, orderFromCart("coupa", "exp-1@coupa", "PO-EXP", "new", "", items))
	assert.Equal(t, 417, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "expired")
	assert.Contains(t, doc.Response.Status.Detail, "resend the revised offer for approval")
	_, doc = s.PostCXML(t, orderFromCart("coupa", "rev-1@coupa", "PO-REV", "new", "", revised))
	assert.Equal(t, 417, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "revised")
	assert.Contains(t, doc.Response.Status.Detail, "resend the revised offer for approval")
	assert.Zero(t, count(t, s, "agreements"))
}

func TestOrderUpdateAndDelete(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		items := cart(t, s, "ariba", "ck-upd", "offer-cloudsight-annual-contract", "offer-teamchat-free")
		_, doc := s.PostCXML(t, orderFromCart("ariba", "upd-1@ariba", "PO-UPD", "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)

		// The update keeps line 1 and drops line 2.
		_, doc = s.PostCXML(t, orderFromCart("ariba", "upd-2@ariba", "PO-UPD", "update", "upd-1@ariba", items[:1]))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		assert.Contains(t, doc.Response.Status.Detail, "1 agreement kept, 0 created, 1 cancelled")
		// Resent with a new payloadID: nothing changes.
		_, doc = s.PostCXML(t, orderFromCart("ariba", "upd-2b@ariba", "PO-UPD", "update", "upd-1@ariba", items[:1]))
		assert.Equal(t, 200, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "received before")
		// An update that does not revise the latest document is refused.
		_, doc = s.PostCXML(t, orderFromCart("ariba", "upd-3@ariba", "PO-UPD", "update", "unknown@ariba", items))
		assert.Equal(t, 417, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "not the latest document")

		var list struct{ Agreements []invoicing.Agreement }
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo&po_number=PO-UPD&status=active", nil, &list))
		require.Len(t, list.Agreements, 1)
		assert.Equal(t, "offer-cloudsight-annual-contract", list.Agreements[0].OfferID)

		_, doc = s.PostCXML(t, orderFromCart("ariba", "upd-4@ariba", "PO-UPD", "delete", "upd-2@ariba", nil))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		assert.Contains(t, doc.Response.Status.Detail, "1 agreement cancelled")
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo&po_number=PO-UPD&status=active", nil, &list))
		assert.Empty(t, list.Agreements)

		_, doc = s.PostCXML(t, orderFromCart("ariba", "upd-5@ariba", "PO-NEVER", "delete", "x@ariba", nil))
		assert.Equal(t, 417, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "not known")
	})
}

func TestOrderOnExpiredAndSuspendedPOs(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
		"id": "PO-OLD", "organization_id": "org_demo", "effective_month": "2024-01", "expiration_month": "2025-06"}, nil))
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
		"id": "PO-SUS", "organization_id": "org_demo", "effective_month": "2026-01", "expiration_month": "2030-12", "status": "suspended"}, nil))
	for _, po := range []string{"PO-OLD", "PO-SUS"} {
		items := cart(t, s, "coupa", "ck-"+po, "offer-cloudsight-annual-contract")
		_, doc := s.PostCXML(t, orderFromCart("coupa", "po-"+po+"@coupa", po, "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
	}
	var po invoicing.PurchaseOrder
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-OLD", nil, &po))
	assert.Equal(t, "active", po.Status, "an expired PO that gets a marketplace line item is active again")
	assert.Len(t, po.LineItems, 1)
	assert.Equal(t, po.LineItems[0].EndMonth, po.ExpirationMonth, "expiring with the line item")
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/purchase-orders/PO-SUS", nil, &po))
	assert.Equal(t, "suspended", po.Status)
	assert.Len(t, po.LineItems, 1, "a suspended PO still gets the line item")
}

func TestAgreementPONumbersForFutureInvoices(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	items := cart(t, s, "coupa", "ck-patch", "offer-cloudsight-payg")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "patch-1@coupa", "PO-FIXED", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code)
	var list struct{ Agreements []invoicing.Agreement }
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements?organization_id=org_demo", nil, &list))
	require.Len(t, list.Agreements, 1)
	id := list.Agreements[0].ID
	var a invoicing.Agreement
	require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/agreements/"+id, map[string]string{"usage_po_number": "PO-USAGE-7"}, &a))
	assert.Equal(t, "PO-USAGE-7", a.UsagePONumber)
	assert.Equal(t, "PO-FIXED", a.PONumber)
	var summary struct {
		Charges []struct {
			PONumber string `json:"po_number"`
		}
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/agreements/"+id+"/charges", nil, &summary))
	for _, c := range summary.Charges {
		assert.Equal(t, "PO-USAGE-7", c.PONumber)
	}
	var e struct{ Error struct{ Message string } }
	assert.Equal(t, 400, s.API(t, "PATCH", "/api/v1/agreements/"+id, map[string]string{"po_number": strings.Repeat("x", 201)}, &e))
	assert.Contains(t, e.Error.Message, "200")
}

// TestAgreementMailArrives sends the subscriber's mail through a real
// SMTP server in-process.
func TestAgreementMailArrives(t *testing.T) {
	mailer := smtptest.Start(t)
	clock := apptest.NewClock(time.Now())
	s := apptest.Start(t, dbtestSQLite(t), func(c *app.Config) { c.SMTPAddr = mailer.Addr }, apptest.WithClock(clock))
	items := cart(t, s, "coupa", "ck-mail", "offer-cloudsight-annual-contract")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "mail-1@coupa", "PO-MAIL", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code)
	msgs := mailer.Wait(t, 1, 20*time.Second)
	m := msgs[0]
	assert.Equal(t, []string{"dana@democorp.example"}, m.To)
	assert.Contains(t, m.Msg.Header.Get("Subject"), "CloudSight Observability")
	assert.Equal(t, "<"+mailID(t, s)+"@punchout.gateway>", m.Msg.Header.Get("Message-ID"), "the outbox's own Message-ID")
	body := mailBody(t, m)
	assert.Contains(t, string(body), "PO-MAIL")
	assert.Contains(t, string(body), "agreement has been created")
	require.Eventually(t, func() bool {
		var st string
		_ = s.App.DB.R.Get(&st, `SELECT status FROM outbox_mail`)
		return st == "sent"
	}, 10*time.Second, 50*time.Millisecond)
	// Nothing is left to send, now or later.
	clock.Advance(24 * time.Hour)
	s.WaitJobs(t)
	n, err := s.App.Jobs.Pending(context.Background(), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to send")
	assert.Len(t, mailer.Messages(), 1, "sent once")
}

// A server that refuses a message gets it again, and the outbox counts
// the attempts; the message keeps its Message-ID.
func TestMailRetriedAfterARefusal(t *testing.T) {
	mailer := smtptest.Start(t)
	mailer.SetRefuse(true)
	s := apptest.Start(t, dbtestSQLite(t), func(c *app.Config) { c.SMTPAddr = mailer.Addr })
	items := cart(t, s, "coupa", "ck-mail-retry", "offer-cloudsight-annual-contract")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "mail-retry-1@coupa", "PO-MAIL-RETRY", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code)
	require.Eventually(t, func() bool {
		var attempts int
		_ = s.App.DB.R.Get(&attempts, `SELECT attempts FROM outbox_mail`)
		return attempts >= 2
	}, 20*time.Second, 20*time.Millisecond, "the refused message is tried again")
	var last string
	require.NoError(t, s.App.DB.R.Get(&last, `SELECT last_error FROM outbox_mail`))
	assert.Contains(t, last, "try again later", "the server's refusal is kept")
	mailer.SetRefuse(false)
	msgs := mailer.Wait(t, 1, 20*time.Second)
	assert.Equal(t, "<"+mailID(t, s)+"@punchout.gateway>", msgs[0].Msg.Header.Get("Message-ID"))
	s.WaitJobs(t)
	var st string
	require.NoError(t, s.App.DB.R.Get(&st, `SELECT status FROM outbox_mail`))
	assert.Equal(t, "sent", st)
}

// mailID is the id of the one message in the outbox.
func mailID(t *testing.T, s *apptest.Server) string {
	t.Helper()
	var id string
	require.NoError(t, s.App.DB.R.Get(&id, `SELECT id FROM outbox_mail`))
	return id
}

// mailBody is a message's text, its transfer encoding undone.
func mailBody(t *testing.T, m smtptest.Message) string {
	t.Helper()
	var r io.Reader = m.Msg.Body
	if strings.EqualFold(m.Msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

func TestMailStaysInOutboxWithoutSMTP(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	items := cart(t, s, "coupa", "ck-nomail", "offer-teamchat-free")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "nomail-1@coupa", "PO-NOMAIL", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code)
	var out struct {
		Messages []struct{ To, Subject, Status string }
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/outbox?organization_id=org_demo", nil, &out))
	require.Len(t, out.Messages, 1)
	assert.Equal(t, "pending", out.Messages[0].Status)
	assert.Equal(t, "dana@democorp.example", out.Messages[0].To)
}

// A manual resend of an accepted order is answered as before even when
// the seller revised the offer since: the order exists, nothing is
// refused and nothing new is created.
func TestResendOfAcceptedOrderAfterRevision(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	items := cart(t, s, "coupa", "ck-resend-rev", "offer-cloudsight-annual-contract")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "resend-rev-1@coupa", "PO-RESEND-REV", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)

	require.Equal(t, 200, s.API(t, "POST", "/api/v1/catalog/import", map[string]any{"offers": []map[string]any{
		{"id": "offer-cloudsight-annual-contract", "product_id": "prod-cloudsight", "pricing_model": "upfront", "currency": "USD", "price": "26000.00", "duration_months": 24},
	}}, nil))

	_, doc = s.PostCXML(t, orderFromCart("coupa", "resend-rev-2@coupa", "PO-RESEND-REV", "new", "", items))
	assert.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
	assert.Contains(t, doc.Response.Status.Detail, "received before")
	assert.Equal(t, 1, count(t, s, "agreements"))

	// Another order for the same quote, under a new PO number, is refused.
	_, doc = s.PostCXML(t, orderFromCart("coupa", "resend-rev-3@coupa", "PO-RESEND-REV-2", "new", "", items))
	assert.Equal(t, 417, doc.Response.Status.Code)
	assert.Contains(t, doc.Response.Status.Detail, "resend the revised offer for approval")
	assert.Equal(t, 1, count(t, s, "agreements"))
}

// A cart line is ordered once: the same cart under another PO number is
// refused with the PO that ordered it, and nothing is created; lines of
// one cart split across two orders are each ordered once; an update of
// the order may name its own lines again; a line repeated in one order is
// refused.
func TestQuoteIsOrderedOnce(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		items := cart(t, s, "coupa", "ck-once", "offer-cloudsight-annual-contract", "offer-teamchat-free")
		_, doc := s.PostCXML(t, orderFromCart("coupa", "once-1@coupa", "PO-ONCE-1", "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		agreements := count(t, s, "agreements")

		_, doc = s.PostCXML(t, orderFromCart("coupa", "once-2@coupa", "PO-ONCE-2", "new", "", items))
		assert.Equal(t, 409, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "already ordered on PO PO-ONCE-1; start a new punchout")
		assert.Equal(t, agreements, count(t, s, "agreements"), "nothing created")

		// The update of the first order keeps its lines, and may send them again.
		_, doc = s.PostCXML(t, orderFromCart("coupa", "once-3@coupa", "PO-ONCE-1", "update", "once-1@coupa", items))
		assert.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)

		// One cart split by the procurement system across two POs.
		split := cart(t, s, "coupa", "ck-split", "offer-cloudsight-annual-contract", "offer-teamchat-free")
		_, doc = s.PostCXML(t, orderFromCart("coupa", "split-1@coupa", "PO-SPLIT-1", "new", "", split[:1]))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		_, doc = s.PostCXML(t, orderFromCart("coupa", "split-2@coupa", "PO-SPLIT-2", "new", "", split[1:]))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		_, doc = s.PostCXML(t, orderFromCart("coupa", "split-3@coupa", "PO-SPLIT-3", "new", "", split[1:]))
		assert.Equal(t, 409, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "already ordered on PO PO-SPLIT-2")

		// The same cart line twice in one order.
		twice := cart(t, s, "coupa", "ck-twice", "offer-cloudsight-annual-contract")
		_, doc = s.PostCXML(t, orderFromCart("coupa", "twice-1@coupa", "PO-TWICE", "new", "", append(twice, twice...)))
		assert.Equal(t, 409, doc.Response.Status.Code)
		assert.Contains(t, doc.Response.Status.Detail, "orders the cart line of line 1 again")
	})
}
