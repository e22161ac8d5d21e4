package punchout_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/punchout"
)

func validConnection(orgID string) map[string]any {
	return map[string]any{
		"organization_id":     orgID,
		"name":                "Acme Coupa",
		"system":              "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "AcmeCoupa"},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": "999999999"},
		"shared_secret":       "acme-secret-123",
		"einvoice":            map[string]any{"enabled": true, "endpoint": "https://acme.coupahost.com/cxml/invoices", "shared_secret": "invoice-secret-456"},
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestConnectionsAPI(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		var org struct{ ID string }
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Acme", "po_mode": "procurement_system"}, &org))
		var other struct{ ID string }
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Checkout Inc", "po_mode": "checkout"}, &other))

		var created map[string]any
		require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/connections", validConnection(org.ID), &created))
		id, _ := created["id"].(string)
		require.True(t, strings.HasPrefix(id, "conn_"), "id %v", created["id"])
		assert.Equal(t, "cxml-urlencoded", created["form_post_field"])
		assert.Equal(t, "10000.00", created["payg_blanket_amount"])
		assert.Equal(t, map[string]any{"domain": "NetworkID", "identity": "AcmeCoupa"}, created["sender_credential"], "sender defaults to the buyer's credential")

		var got map[string]any
		require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/connections/"+id, nil, &got))
		raw := strings.ToLower(toJSON(t, got))
		assert.NotContains(t, raw, "acme-secret-123")
		assert.NotContains(t, raw, "invoice-secret-456")
		assert.NotContains(t, raw, `"shared_secret"`)
		assert.Equal(t, true, got["einvoice"].(map[string]any)["has_shared_secret"])

		// Secrets are not stored in plain text anywhere.
		var rows []string
		require.NoError(t, s.App.DB.R.Select(&rows, s.App.DB.Rebind(`SELECT secret_digest || einvoice_secret FROM connections WHERE id = ?`), id))
		require.Len(t, rows, 1)
		assert.NotContains(t, rows[0], "acme-secret-123")
		assert.NotContains(t, rows[0], "invoice-secret-456")
		secret, err := s.App.Connections.EInvoiceSecret(context.Background(), id)
		require.NoError(t, err)
		assert.Equal(t, "invoice-secret-456", secret)

		refusals := []struct {
			name   string
			change func(map[string]any)
			status int
			msg    string
		}{
			{"same credentials twice", func(map[string]any) {}, 409, "already uses these"},
			{"unknown system", func(m map[string]any) { m["system"] = "oracle" }, 400, "system must be"},
			{"short secret", func(m map[string]any) { m["shared_secret"] = "x" }, 400, "at least 8"},
			{"no buyer", func(m map[string]any) { delete(m, "buyer_credential") }, 400, "buyer_credential"},
			{"bad form field", func(m map[string]any) { m["form_post_field"] = "cxml" }, 400, "form_post_field"},
			{"bad blanket", func(m map[string]any) { m["payg_blanket_amount"] = "10,000.00" }, 400, "payg_blanket_amount"},
			{"ariba e-invoicing", func(m map[string]any) {
				m["system"] = "ariba"
				m["buyer_credential"] = map[string]string{"domain": "NetworkId", "identity": "AN1"}
			}, 400, "Coupa connections only"},
			{"unknown organization", func(m map[string]any) {
				m["organization_id"] = "org_nope"
				m["buyer_credential"] = map[string]string{"domain": "x", "identity": "y"}
			}, 404, "not found"},
			{"checkout organization", func(m map[string]any) {
				m["organization_id"] = other.ID
				m["buyer_credential"] = map[string]string{"domain": "x", "identity": "z"}
			}, 409, "never both"},
			{"unknown field", func(m map[string]any) { m["sharedsecret"] = "typo" }, 400, "unknown field"},
			{"http e-invoicing endpoint", func(m map[string]any) {
				m["einvoice"] = map[string]any{"enabled": true, "endpoint": "http://acme.coupahost.com/cxml/invoices", "shared_secret": "s"}
			}, 400, "einvoice.endpoint http://acme.coupahost.com/cxml/invoices is not https"},
			{"http e-invoicing endpoint on a private address", func(m map[string]any) {
				m["einvoice"] = map[string]any{"enabled": true, "endpoint": "http://10.0.0.8:8080/cxml/invoices", "shared_secret": "s"}
			}, 400, "plain http is accepted only for a loopback address"},
			{"e-invoicing endpoint with a password", func(m map[string]any) {
				m["einvoice"] = map[string]any{"enabled": true, "endpoint": "https://u:p@acme.coupahost.com/cxml/invoices", "shared_secret": "s"}
			}, 400, "einvoice.endpoint must be an https URL without user name or password"},
			{"ftp e-invoicing endpoint", func(m map[string]any) {
				m["einvoice"] = map[string]any{"enabled": true, "endpoint": "ftp://acme.coupahost.com/in", "shared_secret": "s"}
			}, 400, "einvoice.endpoint must be an https URL"},
			{"allow-list entry with a scheme", func(m map[string]any) { m["allowed_form_post_hosts"] = []string{"https://acme.coupahost.com"} }, 400,
				`allowed_form_post_hosts[0] ("https://acme.coupahost.com") must be a host name`},
			{"allow-list wildcard", func(m map[string]any) {
				m["allowed_form_post_hosts"] = []string{"acme.coupahost.com", "*.coupahost.com"}
			}, 400, "allowed_form_post_hosts[1]"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				in := validConnection(org.ID)
				tc.change(in)
				var e apiError
				assert.Equal(t, tc.status, s.API(t, "POST", "/api/v1/connections", in, &e))
				assert.Contains(t, e.Error.Message, tc.msg)
				assert.NotEmpty(t, e.Error.Code)
			})
		}

		// Plain http goes to a loopback address only: a local stand-in.
		for i, endpoint := range []string{"http://127.0.0.1:9/cxml/invoices", "http://[::1]:9/cxml/invoices", "http://localhost:9/cxml/invoices"} {
			in := validConnection(org.ID)
			in["buyer_credential"] = map[string]string{"domain": "NetworkID", "identity": "Loopback" + string(rune('A'+i))}
			in["einvoice"] = map[string]any{"enabled": true, "endpoint": endpoint, "shared_secret": "invoice-secret-456"}
			in["allowed_form_post_hosts"] = []string{"Acme.CoupaHost.com", "[::1]"}
			var c map[string]any
			require.Equal(t, http.StatusCreated, s.API(t, "POST", "/api/v1/connections", in, &c), "%s: %v", endpoint, c)
			assert.Equal(t, endpoint, c["einvoice"].(map[string]any)["endpoint"])
			assert.Equal(t, []any{"acme.coupahost.com", "::1"}, c["allowed_form_post_hosts"])
		}

		var list struct{ Connections []map[string]any }
		require.Equal(t, http.StatusOK, s.API(t, "GET", "/api/v1/connections?organization_id="+org.ID, nil, &list))
		assert.Len(t, list.Connections, 4)

		var e apiError
		assert.Equal(t, http.StatusUnauthorized, s.APIWithToken(t, "", "GET", "/api/v1/connections", nil, &e))
		assert.Equal(t, "unauthorized", e.Error.Code)
		assert.Equal(t, http.StatusUnauthorized, s.APIWithToken(t, "wrong", "GET", "/api/v1/connections", nil, &e))
		assert.Equal(t, http.StatusNotFound, s.API(t, "GET", "/api/v1/connections/conn_nope", nil, &e))
		assert.Equal(t, "not_found", e.Error.Code)
	})
}

func TestDisabledConnectionAuthenticatesNothing(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		_, doc := s.PostCXML(t, coupaDoc("dis-1@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
		require.Equal(t, 200, doc.Response.Status.Code)
		var c map[string]any
		require.Equal(t, http.StatusOK, s.API(t, "POST", "/api/v1/connections/conn_demo_coupa/disable", nil, &c))
		assert.Equal(t, true, c["disabled"])
		_, doc = s.PostCXML(t, coupaDoc("dis-2@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
		assert.Equal(t, 401, doc.Response.Status.Code)
	})
}

// A connection authenticates only documents whose From, To and Sender all
// match it; the credentials of one organization's connection cannot be
// combined with another's secret.
func TestAuthenticateMatchesAllThreeCredentials(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	ctx := context.Background()
	ariba := &cxml.Header{
		From:   cxml.Party{Credentials: []cxml.Credential{{Domain: "networkid", Identity: "AN01000000001-T"}}},
		To:     cxml.Party{Credentials: []cxml.Credential{{Domain: "NETWORKID", Identity: "AN01000000002-T"}}},
		Sender: cxml.Sender{Credentials: []cxml.Credential{{Domain: "AribaNetworkUserId", Identity: "sysadmin@ariba.com", SharedSecret: "ariba-demo-secret"}}},
	}
	conn, err := s.App.Connections.Authenticate(ctx, ariba)
	require.NoError(t, err)
	assert.Equal(t, "conn_demo_ariba", conn.ID)

	tests := []struct {
		name   string
		change func(h *cxml.Header)
	}{
		{"coupa secret on ariba credentials", func(h *cxml.Header) { h.Sender.Credentials[0].SharedSecret = "coupa-demo-secret" }},
		{"identity differs in case", func(h *cxml.Header) { h.From.Credentials[0].Identity = "an01000000001-t" }},
		{"sender is the buyer", func(h *cxml.Header) {
			h.Sender.Credentials[0].Domain, h.Sender.Credentials[0].Identity = "NetworkId", "AN01000000001-T"
		}},
		{"wrong supplier", func(h *cxml.Header) { h.To.Credentials[0].Identity = "AN09" }},
		{"no sender", func(h *cxml.Header) { h.Sender.Credentials = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := cloneHeader(ariba)
			tc.change(h)
			_, err := s.App.Connections.Authenticate(ctx, h)
			assert.True(t, errs.Is(err, errs.Unauthorized), "%v", err)
		})
	}
	t.Run("second From credential matches", func(t *testing.T) {
		h := cloneHeader(ariba)
		h.From.Credentials = append([]cxml.Credential{{Domain: "DUNS", Identity: "123"}}, h.From.Credentials...)
		conn, err := s.App.Connections.Authenticate(ctx, h)
		require.NoError(t, err)
		assert.Equal(t, "conn_demo_ariba", conn.ID)
	})
}

func cloneHeader(h *cxml.Header) *cxml.Header {
	c := *h
	c.From.Credentials = append([]cxml.Credential(nil), h.From.Credentials...)
	c.To.Credentials = append([]cxml.Credential(nil), h.To.Credentials...)
	c.Sender.Credentials = append([]cxml.Credential(nil), h.Sender.Credentials...)
	return &c
}

func TestUpdateConnection(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	var c map[string]any
	require.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
		"shared_secret": "rotated-secret-2027", "payg_blanket_amount": "2500", "allowed_form_post_hosts": []string{"demo.coupahost.com"},
	}, &c))
	assert.Equal(t, "2500.00", c["payg_blanket_amount"])
	assert.NotContains(t, toJSON(t, c), "rotated-secret-2027")
	_, doc := s.PostCXML(t, coupaDoc("rot-1@coupa", "coupa-demo-secret", "<ProfileRequest/>"))
	assert.Equal(t, 401, doc.Response.Status.Code, "the old secret no longer works")
	_, doc = s.PostCXML(t, coupaDoc("rot-2@coupa", "rotated-secret-2027", "<ProfileRequest/>"))
	assert.Equal(t, 200, doc.Response.Status.Code)

	var e apiError
	assert.Equal(t, http.StatusBadRequest, s.API(t, "PATCH", "/api/v1/connections/conn_demo_ariba", map[string]any{
		"einvoice": map[string]any{"enabled": true, "endpoint": "https://x.example/inv", "shared_secret": "s"}}, &e))
	assert.Contains(t, e.Error.Message, "Coupa connections only")
	assert.Equal(t, http.StatusBadRequest, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
		"einvoice": map[string]any{"enabled": true, "endpoint": "http://invoices.example/inv", "shared_secret": "s"}}, &e))
	assert.Contains(t, e.Error.Message, "einvoice.endpoint http://invoices.example/inv is not https")
	assert.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{
		"einvoice": map[string]any{"enabled": true, "endpoint": "http://127.0.0.1:9/inv", "shared_secret": "s"}}, &c))
	// A change that leaves e-invoicing out keeps it, secret included.
	assert.Equal(t, http.StatusOK, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{"auto_approve_free_byol": true}, &c))
	secret, err := s.App.Connections.EInvoiceSecret(context.Background(), "conn_demo_coupa")
	require.NoError(t, err)
	assert.Equal(t, "s", secret)
	assert.Equal(t, http.StatusBadRequest, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{"allowed_form_post_hosts": []string{"demo.coupahost.com:443"}}, &e))
	assert.Contains(t, e.Error.Message, "allowed_form_post_hosts[0]")
	assert.Equal(t, http.StatusBadRequest, s.API(t, "PATCH", "/api/v1/connections/conn_demo_coupa", map[string]any{"buyer_credential": map[string]string{"domain": "x", "identity": "y"}}, &e),
		"credentials never change")
	assert.Equal(t, http.StatusNotFound, s.API(t, "PATCH", "/api/v1/connections/conn_nope", map[string]any{"payg_blanket_amount": "1"}, &e))
}

func TestPersonName(t *testing.T) {
	for _, tc := range []struct{ unique, want string }{
		{"HALVORSEN,INGRID", "Ingrid Halvorsen"},
		{"O'BRIEN,MARY-ANNE", "Mary-Anne O'Brien"},
		{"Müller,Jürgen", "Jürgen Müller"},
		{"ØSTERGÅRD, SØREN", "Søren Østergård"},
		{"jdoe", "jdoe"},
		{"doe@example.com", "doe@example.com"},
		{"A,B,C", "A,B,C"},
		{",X", ",X"},
	} {
		assert.Equal(t, tc.want, punchout.User{UniqueName: tc.unique}.DisplayName(), tc.unique)
	}
}

// A form posted to /cxml is told that the URL takes a cXML document; a
// cXML document sent with a form's content type is read as the document
// it is.
func TestFormBodyIsToldTheURLTakesCXML(t *testing.T) {
	s := apptest.Start(t, dbtestSQLite(t))
	profile := coupaDoc("form-1@coupa", "coupa-demo-secret", "<ProfileRequest/>")
	for _, tc := range []struct {
		name, contentType, body string
		code                    int
		text                    string
	}{
		{"a form", "application/x-www-form-urlencoded", "cxml-urlencoded=%3C%3Fxml+version%3D%221.0%22%3F%3E", 400, "takes a cXML document sent as text/xml, and a form-encoded body was sent"},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"cxml\"\r\n\r\n<cXML/>\r\n--x--", 400, "form-encoded body"},
		{"cXML with a form's content type", "application/x-www-form-urlencoded", string(profile), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(s.URL+"/cxml", tc.contentType, strings.NewReader(tc.body))
			require.NoError(t, err)
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			require.Equal(t, 200, resp.StatusCode)
			doc, err := cxml.Parse(out, cxml.Limits{})
			require.NoError(t, err)
			assert.Equal(t, tc.code, doc.Response.Status.Code, string(out))
			assert.Contains(t, doc.Response.Status.Detail, tc.text)
		})
	}
}
