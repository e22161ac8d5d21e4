package punchout_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
)

// aribaStatusUpdate is the StatusUpdateRequest SAP Ariba sends about an
// invoice, from the demo Ariba connection or the one whose buyer identity
// and secret are given. docRef and invoiceStatus may be empty.
func aribaStatusUpdate(payloadID, buyer, secret, docRef, invoiceStatus string) []byte {
	ref := ""
	if docRef != "" {
		ref = `<DocumentReference payloadID="` + docRef + `"/>`
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">
<cXML xml:lang="en-US" payloadID=%q timestamp="2026-12-01T10:00:00-08:00">
  <Header>
    <From><Credential domain="NetworkId"><Identity>%s</Identity></Credential></From>
    <To><Credential domain="NetworkId"><Identity>AN01000000002-T</Identity></Credential></To>
    <Sender><Credential domain="AribaNetworkUserId"><Identity>sysadmin@ariba.com</Identity><SharedSecret>%s</SharedSecret></Credential>
      <UserAgent>Ariba Network 1.2</UserAgent></Sender>
  </Header>
  <Request>
    <StatusUpdateRequest>
      %s
      <Status code="200" text="OK" xml:lang="en-US">Invoice status changed</Status>
      %s
    </StatusUpdateRequest>
  </Request>
</cXML>`, payloadID, buyer, secret, ref, invoiceStatus))
}

type buyerStatusInvoice struct {
	ID              string     `json:"id"`
	PayloadID       string     `json:"payload_id"`
	BuyerStatus     *string    `json:"buyer_status"`
	BuyerStatusText string     `json:"buyer_status_text"`
	BuyerStatusAt   *time.Time `json:"buyer_status_at"`
}

func TestInvoiceStatusFromTheBuyer(t *testing.T) {
	coupa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, _ := cxml.Marshal(cxml.NewResponse("ack@coupa", time.Now(), cxml.NewStatus(200, ""), nil))
		w.Write(doc)
	}))
	defer coupa.Close()
	clock := apptest.NewClock(time.Date(2027, 1, 5, 9, 0, 0, 0, time.UTC))
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
			"einvoice": map[string]any{"enabled": true, "endpoint": coupa.URL + "/cxml/invoices", "shared_secret": "coupa-invoice-secret"},
		}, nil))
		items := cart(t, s, "coupa", "ck-status", "offer-cloudsight-annual-contract")
		_, doc := s.PostCXML(t, orderFromCart("coupa", "status-order@coupa", "PO-STATUS-1", "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2027-01-31"}, nil))
		s.WaitJobs(t)
		invoices := func(t *testing.T) []buyerStatusInvoice {
			t.Helper()
			var list struct{ Invoices []buyerStatusInvoice }
			require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo", nil, &list))
			return list.Invoices
		}
		list := invoices(t)
		require.Len(t, list, 1)
		inv := list[0]
		require.NotEmpty(t, inv.PayloadID, "an e-invoicing invoice has the payloadID of its InvoiceDetailRequest")
		assert.Nil(t, inv.BuyerStatus, "no buyer status until the buyer sends one")

		// Another organization with an Ariba connection of its own.
		var other struct{ ID string }
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Other Corp", "po_mode": "procurement_system"}, &other))
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
			"organization_id": other.ID, "name": "other ariba", "system": "ariba",
			"buyer_credential":    map[string]string{"domain": "NetworkId", "identity": "AN09000000009-T"},
			"supplier_credential": map[string]string{"domain": "NetworkId", "identity": "AN01000000002-T"},
			"sender_credential":   map[string]string{"domain": "AribaNetworkUserId", "identity": "sysadmin@ariba.com"},
			"shared_secret":       "other-secret",
		}, nil))

		unknown := "no invoice with the invoice number %q was sent to your organization by this gateway"
		tests := []struct {
			name          string
			buyer, secret string
			docRef        string
			invoiceStatus string
			code          int
			detail        string
			status, text  string // the invoice's buyer status afterwards
		}{
			{"processing, by invoice number", "AN01000000001-T", "ariba-demo-secret", "",
				`<InvoiceStatus type="processing"><InvoiceIDInfo invoiceID="` + inv.ID + `"/></InvoiceStatus>`,
				200, "invoice " + inv.ID + " is processing", "processing", "Invoice status changed"},
			{"rejected with comments, by the invoice's payloadID", "AN01000000001-T", "ariba-demo-secret", inv.PayloadID,
				`<InvoiceStatus type="rejected"><Comments xml:lang="en-US">The PO number is closed.</Comments></InvoiceStatus>`,
				200, "is rejected", "rejected", "The PO number is closed."},
			{"paid in part", "AN01000000001-T", "ariba-demo-secret", "",
				`<InvoiceStatus type="paid"><InvoiceIDInfo invoiceID="` + inv.ID + `"/><PartialAmount><Money currency="USD">12000.00</Money></PartialAmount></InvoiceStatus>`,
				200, "is paid", "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"an unknown invoice", "AN01000000001-T", "ariba-demo-secret", "",
				`<InvoiceStatus type="paid"><InvoiceIDInfo invoiceID="inv_nope"/></InvoiceStatus>`,
				417, fmt.Sprintf(unknown, "inv_nope"), "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"an unknown payloadID", "AN01000000001-T", "ariba-demo-secret", "nope@supplier",
				`<InvoiceStatus type="paid"/>`,
				417, `no invoice with the payloadID "nope@supplier" was sent to your organization`, "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"another organization's invoice is unknown", "AN09000000009-T", "other-secret", "",
				`<InvoiceStatus type="canceled"><InvoiceIDInfo invoiceID="` + inv.ID + `"/></InvoiceStatus>`,
				417, fmt.Sprintf(unknown, inv.ID), "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"no invoice named", "AN01000000001-T", "ariba-demo-secret", "", `<InvoiceStatus type="paid"/>`,
				400, "names no invoice", "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"a type the DTD does not have", "AN01000000001-T", "ariba-demo-secret", "",
				`<InvoiceStatus type="approved"><InvoiceIDInfo invoiceID="` + inv.ID + `"/></InvoiceStatus>`,
				400, `InvoiceStatus type "approved" is not one of processing, canceled, reconciled, rejected, paying, paid`, "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
			{"no InvoiceStatus", "AN01000000001-T", "ariba-demo-secret", inv.PayloadID, "",
				450, "only with an InvoiceStatus", "paid", "Invoice status changed\nPartial amount: 12000.00 USD"},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				clock.Advance(time.Minute)
				_, doc := s.PostCXML(t, aribaStatusUpdate(fmt.Sprintf("status-%d@ariba", i), tc.buyer, tc.secret, tc.docRef, tc.invoiceStatus))
				assert.Equal(t, tc.code, doc.Response.Status.Code, doc.Response.Status.Detail)
				assert.Contains(t, doc.Response.Status.Detail, tc.detail)
				got := invoices(t)[0]
				require.NotNil(t, got.BuyerStatus)
				assert.Equal(t, tc.status, *got.BuyerStatus)
				assert.Equal(t, tc.text, got.BuyerStatusText)
				require.NotNil(t, got.BuyerStatusAt)
				if tc.code == 200 {
					assert.True(t, clock.Now().Equal(*got.BuyerStatusAt), "%v", got.BuyerStatusAt)
				}
			})
		}

		// The change is in the audit log, made by the gateway itself.
		var audit struct {
			Events []struct {
				Action   string `json:"action"`
				ObjectID string `json:"object_id"`
				Actor    struct{ Kind string }
			} `json:"events"`
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/audit?organization_id=org_demo", nil, &audit))
		n := 0
		for _, e := range audit.Events {
			if e.Action == "invoice.buyer_status" {
				n++
				assert.Equal(t, inv.ID, e.ObjectID)
				assert.Equal(t, "system", e.Actor.Kind)
			}
		}
		assert.Equal(t, 3, n)
	}, apptest.WithClock(clock))
}
