package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// api/openapi.yaml loads and is valid OpenAPI 3.0 for kin-openapi's
// validator (the one internal/apptest checks every answer with).
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _, err := apptest.LoadOpenAPI()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3.0."), "openapi: %s (see the comment at the top of the file)", doc.OpenAPI)
	require.NotNil(t, doc.Components.SecuritySchemes["bearer"], "the bearer security scheme is defined")
	assert.Equal(t, "bearer", doc.Components.SecuritySchemes["bearer"].Value.Scheme)
}

// Every operation that reads a body or checks a query parameter
// documents 400, every operation documents 401, 429 and 5XX, every
// answer has a content type with a schema, and every error answer is the
// shared Error.
func TestOpenAPIDocumentsEveryAnswer(t *testing.T) {
	doc, _, err := apptest.LoadOpenAPI()
	require.NoError(t, err)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			needs400 := op.RequestBody != nil
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if p.Value.In == openapi3.ParameterInQuery && checked(p.Value) {
					needs400 = true
				}
			}
			if needs400 {
				assert.NotNil(t, op.Responses.Value("400"), "%s reads a body or checks a query parameter, but lists no 400", name)
			}
			for _, status := range []string{"401", "429", "5XX"} {
				assert.NotNil(t, op.Responses.Value(status), "%s lists no %s (every admin request is authenticated)", name, status)
			}
			ok := false
			for status, r := range op.Responses.Map() {
				if status == "204" {
					// No Content (DELETE /tokens/{id}, the interface).
					assert.Empty(t, r.Value.Content, "%s 204 has content", name)
					ok = true
					continue
				}
				if !assert.NotEmpty(t, r.Value.Content, "%s %s has no content", name, status) {
					continue
				}
				for mt, c := range r.Value.Content {
					assert.NotNil(t, c.Schema, "%s %s %s has no schema", name, status, mt)
				}
				if status[0] == '2' {
					ok = true
					continue
				}
				c := r.Value.Content.Get("application/json")
				if assert.NotNil(t, c, "%s %s is not JSON", name, status) && assert.NotNil(t, c.Schema) {
					assert.Equal(t, "#/components/schemas/Error", c.Schema.Ref, "%s %s is not the shared Error", name, status)
				}
			}
			assert.True(t, ok, "%s has no success answer", name)
		}
	}
}

// checked tells whether a query parameter is one the handler checks (and
// answers 400 for): required, or constrained beyond a free string.
func checked(p *openapi3.Parameter) bool {
	if p.Required {
		return true
	}
	s := p.Schema.Value
	return !s.Type.Is(openapi3.TypeString) || len(s.Enum) > 0 || s.Pattern != "" || s.Format != "" ||
		s.Min != nil || s.Max != nil || s.MinLength > 0 || s.MaxLength != nil
}

// tb records what CheckAPIAnswer reports instead of failing the test.
type tb struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *tb) Helper() {}
func (r *tb) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The check that every API call of the test suite goes through finds
// answers the description does not give.
func TestOpenAPICheckFindsWrongAnswers(t *testing.T) {
	org := `{"id":"org_1","name":"Acme","po_mode":"none","created_at":"2026-01-02T03:04:05Z"}`
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wrong              string // "" when the answer is right
	}{
		{"right", "GET", "/api/v1/organizations/org_1", 200, jsonCT, org, ""},
		{"right error", "GET", "/api/v1/organizations/org_1", 404, jsonCT, `{"error":{"code":"not_found","message":"no"}}`, ""},
		{"undocumented status", "GET", "/api/v1/organizations/org_1", 409, jsonCT, `{"error":{"code":"conflict","message":"no"}}`, "status 409"},
		{"unknown field", "GET", "/api/v1/organizations/org_1", 200, jsonCT, strings.Replace(org, `"id"`, `"extra":1,"id"`, 1), "extra"},
		{"missing field", "GET", "/api/v1/organizations/org_1", 200, jsonCT, `{"id":"org_1","name":"Acme","po_mode":"none"}`, "created_at"},
		{"wrong enum", "GET", "/api/v1/organizations/org_1", 200, jsonCT, strings.Replace(org, `"none"`, `"sometimes"`, 1), "po_mode"},
		{"wrong content type", "GET", "/api/v1/organizations/org_1", 200, http.Header{"Content-Type": {"text/html"}}, "<p>hi</p>", "text/html"},
		{"error code", "GET", "/api/v1/organizations/org_1", 404, jsonCT, `{"error":{"code":"gone","message":"no"}}`, "code"},
		{"429 without Retry-After", "GET", "/api/v1/organizations", 429, jsonCT, `{"error":{"code":"too_many_requests","message":"wait"}}`, "Retry-After"},
		{"undocumented operation", "DELETE", "/api/v1/organizations/org_1", 200, jsonCT, org, "no operation"},
		{"cXML document", "GET", "/api/v1/invoices/inv_1/cxml", 200, http.Header{"Content-Type": {"text/xml; charset=UTF-8"}}, `<?xml version="1.0"?><cXML/>`, ""},
		{"cXML document as JSON", "GET", "/api/v1/invoices/inv_1/cxml", 200, jsonCT, `"<cXML/>"`, "application/json"},
		{"router's own 404", "GET", "/api/v1/nothing-here", 404, jsonCT, `{"error":{"code":"not_found","message":"Not Found"}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
			require.NoError(t, err)
			r := &tb{TB: t}
			apptest.CheckAPIAnswer(r, req, tc.status, tc.header, []byte(tc.body))
			if tc.wrong == "" {
				assert.Empty(t, r.errs)
				return
			}
			require.Len(t, r.errs, 1, "the wrong answer is reported")
			assert.Contains(t, r.errs[0], tc.wrong)
		})
	}
}

// Every operation's answers, as the gateway gives them, match the
// description: each call below goes through apptest's check. Other
// packages' tests check the answers of their own flows the same way;
// this one reaches every operation at least once.
func TestOpenAPIDescribesRealAnswers(t *testing.T) {
	s := apptest.Start(t, dbtest.SQLiteDSN(t))
	api := func(method, path string, in any, want int) map[string]any {
		t.Helper()
		var out map[string]any
		code := s.API(t, method, path, in, &out)
		require.Equal(t, want, code, "%s %s: %v", method, path, out)
		return out
	}
	str := func(m map[string]any, k string) string {
		t.Helper()
		v, _ := m[k].(string)
		require.NotEmpty(t, v, k)
		return v
	}
	first := func(m map[string]any, k string) map[string]any {
		t.Helper()
		l, _ := m[k].([]any)
		require.NotEmpty(t, l, k)
		return l[0].(map[string]any)
	}

	// Organizations.
	org := api("POST", "/api/v1/organizations", map[string]string{"name": "Checkout Co", "po_mode": "checkout"}, 201)
	orgID := str(org, "id")
	api("POST", "/api/v1/organizations", map[string]string{"name": ""}, 400)
	api("POST", "/api/v1/organizations", map[string]any{"name": "X", "colour": "red"}, 400)
	api("GET", "/api/v1/organizations", nil, 200)
	api("GET", "/api/v1/organizations/"+orgID, nil, 200)
	api("GET", "/api/v1/organizations/org_nope", nil, 404)

	// Catalog and private marketplaces.
	imp := map[string]any{
		"products": []map[string]any{{"id": "prod-openapi", "name": "Spec Checker", "vendor": "Acme", "type": "saas", "unspsc": "43232300", "description": "Checks"}},
		"offers": []map[string]any{
			{"id": "offer-openapi-fps", "product_id": "prod-openapi", "pricing_model": "fps", "currency": "USD", "duration_months": 12,
				"schedule": []map[string]string{{"due": "2026-01-01", "amount": "100.00"}, {"due": "2026-07-01", "amount": "100.00"}}},
			{"id": "offer-openapi-payg", "product_id": "prod-openapi", "pricing_model": "payg", "currency": "USD",
				"dimensions": []map[string]string{{"name": "checks", "unit": "check", "unit_price": "0.01"}}},
			{"id": "offer-openapi-private", "product_id": "prod-openapi", "pricing_model": "upfront", "currency": "EUR", "price": "10.00",
				"duration_months": 12, "private_to_organization_id": orgID, "expires_at": "2099-01-01T00:00:00Z"},
		},
	}
	api("POST", "/api/v1/catalog/import", imp, 200)
	api("POST", "/api/v1/catalog/import", map[string]any{"products": []map[string]any{{"id": "bad id"}}}, 400)
	products := api("GET", "/api/v1/products?organization_id="+orgID+"&q=Spec", nil, 200)
	assert.NotEmpty(t, first(products, "products")["offers"])
	api("GET", "/api/v1/products?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/products", nil, 400)
	for _, o := range []string{"offer-openapi-fps", "offer-openapi-payg", "offer-openapi-private", "offer-cloudsight-annual-contract"} {
		api("GET", "/api/v1/offers/"+o, nil, 200)
	}
	api("GET", "/api/v1/offers/offer-nope", nil, 404)
	pm := "/api/v1/organizations/" + orgID + "/private-marketplace"
	api("GET", pm, nil, 200)
	api("PUT", pm, map[string]any{"enabled": false, "product_ids": []string{"prod-openapi", "prod-cloudsight"}}, 200)
	api("PUT", pm, map[string]any{"enabled": true, "product_ids": []string{"prod-nope"}}, 400)
	api("PUT", "/api/v1/organizations/org_nope/private-marketplace", map[string]any{"enabled": true}, 404)
	api("GET", pm, nil, 200)

	// Connections.
	conn := map[string]any{
		"organization_id": "org_demo", "name": "Spec Coupa", "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "SpecCoupa"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "123456789"},
		"shared_secret":       "spec-secret-1", "allowed_form_post_hosts": []string{"spec.coupahost.com"},
		"einvoice": map[string]any{"enabled": true, "endpoint": "https://spec.coupahost.com/cxml/invoices", "shared_secret": "inv-secret"},
	}
	c := api("POST", "/api/v1/connections", conn, 201)
	connID := str(c, "id")
	api("POST", "/api/v1/connections", conn, 409)
	conn["organization_id"] = orgID
	api("POST", "/api/v1/connections", conn, 409)
	conn["organization_id"] = "org_nope"
	api("POST", "/api/v1/connections", conn, 404)
	api("POST", "/api/v1/connections", map[string]any{"name": "x"}, 400)
	api("GET", "/api/v1/connections", nil, 200)
	api("GET", "/api/v1/connections?organization_id=org_demo", nil, 200)
	api("GET", "/api/v1/connections/"+connID, nil, 200)
	api("GET", "/api/v1/connections/conn_nope", nil, 404)
	api("PATCH", "/api/v1/connections/"+connID, map[string]any{"auto_approve_free_byol": true, "payg_blanket_amount": "500",
		"einvoice": map[string]any{"enabled": true, "endpoint": "https://spec.coupahost.com/cxml/invoices2"}}, 200)
	api("PATCH", "/api/v1/connections/"+connID, map[string]any{"form_post_field": "xml"}, 400)
	api("PATCH", "/api/v1/connections/conn_nope", map[string]any{}, 404)
	api("POST", "/api/v1/connections/"+connID+"/disable", nil, 200)
	api("POST", "/api/v1/connections/conn_nope/disable", nil, 404)

	// The log of cXML documents: one refused before authentication, one
	// answered for the demo Coupa connection.
	s.PostCXML(t, []byte(`<?xml version="1.0"?><cXML payloadID="spec-1@x" timestamp="2026-01-01T00:00:00Z"><Header/></cXML>`))
	ex := api("GET", "/api/v1/exchanges?limit=1", nil, 200)
	exID := str(first(ex, "exchanges"), "id")
	if cur, _ := ex["next_cursor"].(string); cur != "" {
		api("GET", "/api/v1/exchanges?limit=1&cursor="+url.QueryEscape(cur), nil, 200)
	}
	api("GET", "/api/v1/exchanges?organization_id=org_demo&connection_id=conn_demo_coupa&payload_id=x", nil, 200)
	api("GET", "/api/v1/exchanges?limit=0", nil, 400)
	api("GET", "/api/v1/exchanges?cursor=nonsense", nil, 400)
	api("GET", "/api/v1/exchanges/"+exID, nil, 200)
	api("GET", "/api/v1/exchanges/ex_nope", nil, 404)

	// Purchase orders.
	po := map[string]any{
		"id": "PO 7/2026", "organization_id": orgID, "bill_from": "Acme AP", "effective_month": "2026-01", "expiration_month": "2099-12",
		"contacts":   []map[string]string{{"name": "Ann", "email": "ann@acme.example"}},
		"line_items": []map[string]string{{"type": "all", "start_month": "2026-01", "end_month": "2099-12", "amount": "5000.00"}},
	}
	api("POST", "/api/v1/purchase-orders", po, 201)
	api("POST", "/api/v1/purchase-orders", po, 409)
	po["organization_id"] = "org_nope"
	api("POST", "/api/v1/purchase-orders", po, 404)
	api("POST", "/api/v1/purchase-orders", map[string]any{"id": "PO-X", "organization_id": orgID, "effective_month": "soon"}, 400)
	api("GET", "/api/v1/purchase-orders?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/purchase-orders", nil, 400)
	poPath := "/api/v1/purchase-orders/" + url.PathEscape("PO 7/2026")
	api("GET", poPath, nil, 200)
	api("GET", poPath+"?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/purchase-orders/PO-NOPE", nil, 404)
	api("PATCH", poPath, map[string]any{"status": "suspended", "add_line_items": []map[string]string{
		{"type": "monthly_usage", "start_month": "2026-01", "end_month": "2026-12"}}}, 200)
	api("PATCH", poPath, map[string]any{"status": "expired"}, 400)
	api("PATCH", "/api/v1/purchase-orders/PO-NOPE", map[string]any{"status": "active"}, 404)
	api("PATCH", poPath, map[string]any{"status": "active"}, 200)
	// The same number in a second organization needs ?organization_id=.
	po["organization_id"] = "org_demo"
	api("POST", "/api/v1/purchase-orders", po, 201)
	api("GET", poPath, nil, 409)
	api("PATCH", poPath, map[string]any{"bill_from": "X"}, 409)

	// Subscriptions at checkout make agreements.
	sub := func(offer, po string, want int) map[string]any {
		t.Helper()
		return api("POST", "/api/v1/subscriptions", map[string]string{
			"organization_id": orgID, "offer_id": offer, "po_number": po, "subscriber_email": "ops@checkout.example", "subscriber_name": "Ops",
		}, want)
	}
	a := sub("offer-openapi-fps", "CHK-1", 201)
	agID := str(a, "id")
	sub("offer-cloudsight-annual-contract", "CHK-1", 201)
	sub("offer-openapi-payg", "CHK-1", 403)
	sub("offer-nope", "CHK-1", 404)
	sub("offer-openapi-fps", strings.Repeat("x", 201), 400)
	api("POST", "/api/v1/subscriptions", map[string]string{"organization_id": "org_demo", "offer_id": "offer-cloudsight-annual-contract", "po_number": "X"}, 409)
	api("POST", "/api/v1/subscriptions", map[string]string{"organization_id": "org_nope", "offer_id": "offer-cloudsight-annual-contract", "po_number": "X"}, 404)

	// Agreements and their charges.
	api("GET", "/api/v1/agreements?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/agreements?organization_id="+orgID+"&po_number=CHK-1&status=active", nil, 200)
	api("GET", "/api/v1/agreements", nil, 400)
	api("GET", "/api/v1/agreements/"+agID, nil, 200)
	api("GET", "/api/v1/agreements/agr_nope", nil, 404)
	api("PATCH", "/api/v1/agreements/"+agID, map[string]string{"po_number": "CHK-2", "usage_po_number": "CHK-U"}, 200)
	api("PATCH", "/api/v1/agreements/"+agID, map[string]string{}, 400)
	api("PATCH", "/api/v1/agreements/agr_nope", map[string]string{"po_number": "CHK-3"}, 404)
	api("GET", "/api/v1/agreements/"+agID+"/charges", nil, 200)
	api("GET", "/api/v1/agreements/agr_nope/charges", nil, 404)

	// Usage, billing, invoices and the outbox.
	api("POST", "/api/v1/usage", map[string]any{"records": []any{}}, 400)
	api("POST", "/api/v1/usage", map[string]any{"records": []map[string]string{
		{"id": "u1", "agreement_id": agID, "dimension": "checks", "quantity": "1", "time": "2026-01-01T00:00:00Z"}}}, 400)
	api("POST", "/api/v1/billing/run", map[string]string{"through": "2026-12-31"}, 200)
	api("POST", "/api/v1/billing/run", map[string]string{"through": "tomorrow"}, 400)
	inv := api("GET", "/api/v1/invoices?organization_id="+orgID, nil, 200)
	invID := str(first(inv, "invoices"), "id")
	api("GET", "/api/v1/invoices?agreement_id="+agID, nil, 200)
	api("GET", "/api/v1/invoices", nil, 400)
	api("GET", "/api/v1/invoices/"+invID+"/cxml", nil, 404) // no connection, so no cXML document
	api("GET", "/api/v1/invoices/inv_nope/cxml", nil, 404)
	api("POST", "/api/v1/invoices/"+invID+"/resend", nil, 404)
	api("GET", "/api/v1/outbox", nil, 200)
	api("GET", "/api/v1/outbox?organization_id="+orgID+"&status=pending", nil, 200)

	// Users, tokens and the audit log.
	tok := api("POST", "/api/v1/tokens", map[string]any{"name": "CI", "organization_id": orgID, "role": "billing", "expires_at": "2099-01-01T00:00:00Z"}, 201)
	tokID := str(tok, "id")
	str(tok, "token")
	api("POST", "/api/v1/tokens", map[string]any{"name": "Bad", "role": "boss"}, 400)
	api("POST", "/api/v1/tokens", map[string]any{"name": "Nowhere", "organization_id": "org_nope", "role": "viewer"}, 404)
	api("GET", "/api/v1/tokens?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/tokens", nil, 200)
	assert.Equal(t, 204, s.API(t, "DELETE", "/api/v1/tokens/"+tokID, nil, nil))
	api("DELETE", "/api/v1/tokens/tok_nope", nil, 404)
	usr := api("POST", "/api/v1/users", map[string]any{"email": "Ann@Checkout.example", "name": "Ann", "organization_id": orgID, "role": "admin", "password": "correct horse battery"}, 201)
	usrID := str(usr, "id")
	api("POST", "/api/v1/users", map[string]any{"email": "ann@checkout.example", "name": "Ann again", "organization_id": orgID, "role": "viewer"}, 409)
	api("POST", "/api/v1/users", map[string]any{"email": "not an address", "name": "X", "organization_id": orgID, "role": "viewer"}, 400)
	api("POST", "/api/v1/users", map[string]any{"email": "x@y.example", "name": "X", "organization_id": "org_nope", "role": "viewer"}, 404)
	api("GET", "/api/v1/users?organization_id="+orgID, nil, 200)
	api("GET", "/api/v1/users/"+usrID, nil, 200)
	api("GET", "/api/v1/users/usr_nope", nil, 404)
	api("PATCH", "/api/v1/users/"+usrID, map[string]any{"role": "billing", "disabled": true}, 200)
	api("PATCH", "/api/v1/users/"+usrID, map[string]any{"password": "short"}, 400)
	api("PATCH", "/api/v1/users/usr_nope", map[string]any{"name": "X"}, 404)
	assert.Equal(t, 204, s.API(t, "DELETE", "/api/v1/users/"+usrID, nil, nil))
	api("DELETE", "/api/v1/users/"+usrID, nil, 404)
	api("GET", "/api/v1/audit?organization_id="+orgID+"&since=2020-01-01T00:00:00Z&limit=10", nil, 200)
	api("GET", "/api/v1/audit?since=yesterday", nil, 400)

	// Authentication.
	assert.Equal(t, 401, s.APIWithToken(t, "", "GET", "/api/v1/organizations", nil, nil))
	assert.Equal(t, 401, s.APIWithToken(t, "wrong", "POST", "/api/v1/usage", map[string]any{}, nil))
	limited := apptest.Start(t, dbtest.SQLiteDSN(t), apptest.WithAuthFailureLimit(0.001, 1))
	assert.Equal(t, 401, limited.APIWithToken(t, "wrong", "GET", "/api/v1/agreements/x", nil, nil))
	assert.Equal(t, 429, limited.APIWithToken(t, "wrong", "GET", "/api/v1/agreements/x", nil, nil))

	// Every operation was reached, each with a success but for those whose
	// success needs a cXML order (usage, invoice documents), which the
	// tests of punchout and invoicing check.
	doc, _, err := apptest.LoadOpenAPI()
	require.NoError(t, err)
	got := apptest.CheckedAnswers()
	noSuccessHere := map[string]bool{"POST /usage": true, "GET /invoices/{id}/cxml": true, "POST /invoices/{id}/resend": true}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			reached, succeeded := false, false
			for _, g := range got {
				if rest, ok := strings.CutPrefix(g, op+" "); ok {
					reached = true
					n, _ := strconv.Atoi(rest)
					succeeded = succeeded || n/100 == 2
				}
			}
			assert.True(t, reached, "no answer of %s was checked", op)
			assert.True(t, succeeded || noSuccessHere[op], "no success answer of %s was checked", op)
		}
	}
}
