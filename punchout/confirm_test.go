package punchout_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/cxmltest"
)

// A connection that asks for order confirmations gets a DTD-valid
// ConfirmationRequest of type accept after an order, naming the order and
// each line's agreement, and one of type reject for the lines a delete
// cancels; both are in the exchange log. A connection that does not ask
// gets none. On both engines.
func TestOrderConfirmations(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		var mu sync.Mutex
		var got [][]byte
		buyer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, b)
			mu.Unlock()
			doc, _ := cxml.Marshal(cxml.NewResponse("ack@coupa", time.Now(), cxml.NewStatus(200, ""), nil))
			w.Write(doc)
		}))
		t.Cleanup(buyer.Close)
		received := func() [][]byte {
			mu.Lock()
			defer mu.Unlock()
			return append([][]byte(nil), got...)
		}

		// Without order_confirmation, an order is confirmed to no one.
		items := cart(t, s, "coupa", "ck-noconfirm", "offer-teamchat-free")
		_, doc := s.PostCXML(t, orderFromCart("coupa", "noconf-1@coupa", "PO-NOCONF", "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		s.WaitJobs(t)
		assert.Empty(t, received())

		var e struct{ Error struct{ Message string } }
		require.Equal(t, 400, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
			"order_confirmation": map[string]any{"enabled": true, "endpoint": buyer.URL + "/cxml/confirmations"}}, &e))
		assert.Contains(t, e.Error.Message, "order_confirmation needs einvoice.shared_secret")
		require.Equal(t, 200, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
			"einvoice":           map[string]any{"enabled": false, "shared_secret": "documents-secret"},
			"order_confirmation": map[string]any{"enabled": true, "endpoint": buyer.URL + "/cxml/confirmations"}}, nil))

		items = cart(t, s, "coupa", "ck-confirm", "offer-cloudsight-annual-contract", "offer-teamchat-free")
		_, doc = s.PostCXML(t, orderFromCart("coupa", "conf-1@coupa", "PO-CONF", "new", "", items))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		s.WaitJobs(t)
		require.Len(t, received(), 1)
		accept := received()[0]
		cxmltest.Validate(t, accept)
		assert.Contains(t, string(accept), "<SharedSecret>documents-secret</SharedSecret>", "the secret, put in when sent")
		parsed, err := cxml.Parse(accept, cxml.Limits{})
		require.NoError(t, err)
		req := parsed.Request.Body.(*cxml.ConfirmationRequest)
		assert.Equal(t, "accept", req.Header.Type)
		assert.Equal(t, "PO-CONF", req.OrderReference.OrderID)
		assert.Equal(t, "conf-1@coupa", req.OrderReference.DocumentReference)
		require.Len(t, req.Items, 2)
		var agreements []string
		require.NoError(t, s.App.DB.R.Select(&agreements, `SELECT id FROM agreements WHERE order_id = 'PO-CONF' ORDER BY line_number`))
		for i, it := range req.Items {
			assert.Equal(t, i+1, it.LineNumber)
			require.Len(t, it.Statuses, 1)
			assert.Equal(t, "accept", it.Statuses[0].Type)
			assert.Equal(t, agreements[i], cxml.ExtrinsicValue(it.Statuses[0].Extrinsics, "AgreementID"), "the agreement is the supplier's reference")
		}

		_, doc = s.PostCXML(t, orderFromCart("coupa", "conf-2@coupa", "PO-CONF", "delete", "conf-1@coupa", nil))
		require.Equal(t, 200, doc.Response.Status.Code, doc.Response.Status.Detail)
		s.WaitJobs(t)
		require.Len(t, received(), 2)
		reject := received()[1]
		cxmltest.Validate(t, reject)
		parsed, err = cxml.Parse(reject, cxml.Limits{})
		require.NoError(t, err)
		req = parsed.Request.Body.(*cxml.ConfirmationRequest)
		assert.Equal(t, "reject", req.Header.Type)
		assert.Len(t, req.Items, 2)

		var sent []string
		require.NoError(t, s.App.DB.R.Select(&sent, `SELECT doc_type FROM exchanges WHERE direction = 'out' AND doc_type = 'ConfirmationRequest'`))
		assert.Len(t, sent, 2, "both are in the exchange log")
		var delivered int
		require.NoError(t, s.App.DB.R.Get(&delivered, `SELECT COUNT(*) FROM confirmations WHERE delivery_status = 'delivered'`))
		assert.Equal(t, 2, delivered)
	})
}
