package punchout_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
)

// TestDemoBillingDeliversToCoupa runs the whole chain on the demo data:
// a Coupa user's cart becomes an order, the order agreements, a billing
// run invoices their due charges, and the deliverer posts DTD-valid
// InvoiceDetailRequests to a stand-in for Coupa that fails once with a
// 500 (retried) and refuses the FPS invoice with a 417 (parked). A second
// run delivers nothing new.
func TestDemoBillingDeliversToCoupa(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string]int{}
	var bodies [][]byte
	payloadRe := regexp.MustCompile(`<cXML payloadID="([^"]+)"`)
	coupa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		id := string(payloadRe.FindSubmatch(b)[1])
		attempts[id]++
		n := attempts[id]
		mu.Unlock()
		code, detail := 200, ""
		switch {
		case bytes.Contains(b, []byte("flexible payment schedule")):
			code, detail = 417, "Invoice line amount exceeds the PO line"
		case n == 1:
			code = 500
		}
		doc, _ := cxml.Marshal(cxml.NewResponse(fmt.Sprintf("ack-%d@coupa", n), time.Now(), cxml.NewStatus(code, detail), nil))
		if code >= 500 {
			w.WriteHeader(500)
		}
		w.Write(doc)
	}))
	defer coupa.Close()

	s := apptest.Start(t, dbtestSQLite(t))
	require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
		"einvoice": map[string]any{"enabled": true, "endpoint": coupa.URL + "/cxml/invoices", "shared_secret": "coupa-invoice-secret"},
	}, nil))
	items := cart(t, s, "coupa", "ck-bill", "offer-cloudsight-annual-contract", "offer-ledgerflow-private-fps")
	_, doc := s.PostCXML(t, orderFromCart("coupa", "bill-1@coupa", "PO-DEMO-1", "new", "", items))
	require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)

	var res map[string]any
	require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2027-01-31"}, &res))
	assert.EqualValues(t, 2, res["out_of_cycle_invoices"], "the upfront fee and the first FPS installment")

	s.WaitJobs(t)
	var list struct {
		Invoices []struct {
			Total    string `json:"total"`
			PO       string `json:"po_number"`
			Delivery struct {
				Status    string `json:"status"`
				Attempts  int    `json:"attempts"`
				LastError string `json:"last_error"`
			} `json:"delivery"`
		} `json:"invoices"`
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id=org_demo", nil, &list))
	require.Len(t, list.Invoices, 2)
	byTotal := map[string]int{}
	for i, inv := range list.Invoices {
		byTotal[inv.Total] = i
		assert.Equal(t, "PO-DEMO-1", inv.PO)
	}
	up := list.Invoices[byTotal["24000.00"]]
	assert.Equal(t, "delivered", up.Delivery.Status)
	assert.Equal(t, 2, up.Delivery.Attempts, "retried through the 500")
	fps := list.Invoices[byTotal["40000.00"]]
	assert.Equal(t, "failed", fps.Delivery.Status, "parked on the 417")
	assert.Contains(t, fps.Delivery.LastError, "exceeds the PO line")

	mu.Lock()
	for _, b := range bodies {
		cxmltest.Validate(t, b)
		assert.Contains(t, string(b), "<SharedSecret>coupa-invoice-secret</SharedSecret>")
	}
	sent := len(bodies)
	mu.Unlock()

	require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2027-01-31"}, &res))
	assert.EqualValues(t, 0, res["out_of_cycle_invoices"])
	s.WaitJobs(t)
	n, err := s.App.Jobs.Pending(context.Background(), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "a second run delivers nothing new")
	mu.Lock()
	assert.Equal(t, sent, len(bodies))
	mu.Unlock()
}
