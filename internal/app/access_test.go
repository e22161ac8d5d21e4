package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/exchange"
)

// tenant is one organization's objects and its tokens, one per role.
type tenant struct {
	org, conn, agreement, invoice, exchange, po, user string
	tokens                                            map[string]string
}

// routeRule is what the test expects of a route, written here apart from
// the policies in routes.go: the least role, and how the route names the
// organization of what it touches.
type routeRule struct {
	min  string
	kind string // global, query, path, owned, body, self, usage
	// path builds the URL for a tenant (own or foreign); body its JSON.
	path func(t tenant) string
	body func(t tenant) any
}

var roleOrder = map[string]int{"viewer": 0, "billing": 1, "admin": 2, "operator": 3}

// TestEveryRouteAnswersEachRoleAsItsPolicySays goes route by route (the
// routes the gateway registers, so a new route without a rule here fails)
// and role by role: a role below the route's is refused 403; an
// organization's token reaches its own organization's objects, and
// another organization's object is answered as a missing one is, a list
// of another organization is refused, and no answer carries the other
// organization's ids. It runs on both engines.
func TestEveryRouteAnswersEachRoleAsItsPolicySays(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		a, b := newTenant(t, s, "A"), newTenant(t, s, "B")
		operator := mint(t, s, map[string]any{"name": "ops", "role": "operator"})
		rules := routeRules(t, s)

		for _, r := range s.App.Echo.Routes() {
			if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.yaml" {
				continue
			}
			key := r.Method + " " + r.Path
			rule, ok := rules[key]
			if !assert.True(t, ok, "route %s has no rule in this test: give it a policy in routes.go and a rule here", key) {
				continue
			}
			t.Run(key, func(t *testing.T) {
				for _, role := range []string{"viewer", "billing", "admin"} {
					token := a.tokens[role]
					allowed := roleOrder[role] >= roleOrder[rule.min] && rule.kind != "global"
					own, ownBody := call(t, s, token, r.Method, rule.path(a), rule.bodyFor(a))
					if !allowed {
						assert.Equal(t, 403, own, "%s may not: %s", role, ownBody)
						continue
					}
					assert.NotContains(t, []int{401, 403}, own, "%s on its own organization: %s", role, ownBody)
					for _, foreignID := range b.ids() {
						assert.NotContains(t, ownBody, foreignID, "%s's answer carries the other organization's %s", role, foreignID)
					}
					pathF := rule.path(b)
					foreign, foreignBody := call(t, s, token, r.Method, pathF, rule.bodyFor(b))
					switch rule.kind {
					case "query", "body":
						assert.Equal(t, 403, foreign, "%s asking for another organization: %s", role, foreignBody)
					case "owned", "path", "self", "usage":
						assert.Equal(t, 404, foreign, "%s reaching another organization's object: %s", role, foreignBody)
						pathM := rule.path(gone(b))
						missing, missingBody := call(t, s, token, r.Method, pathM, rule.bodyFor(gone(b)))
						assert.Equal(t, missing, foreign, "another organization's object is answered as a missing one")
						assert.Equal(t, anonymous(missingBody, pathM, gone(b).ids()), anonymous(foreignBody, pathF, b.ids()), "in the same words")
					}
					for _, foreignID := range b.ids() {
						assert.NotContains(t, foreignBody, foreignID+`"`, "%s's answer about another organization carries its %s", role, foreignID)
					}
				}
				code, body := call(t, s, operator, r.Method, rule.path(b), rule.bodyFor(b))
				assert.NotContains(t, []int{401, 403}, code, "an operator may do everything: %s", body)
			})
		}

		// A revoked token gets 401.
		var out struct{ Token, ID string }
		require.Equal(t, 201, s.APIWithToken(t, a.tokens["admin"], "POST", "/api/v1/tokens", map[string]any{"name": "short-lived", "role": "viewer"}, &out))
		code, _ := call(t, s, out.Token, "GET", "/api/v1/connections", nil)
		require.Equal(t, 200, code)
		require.Equal(t, 204, s.APIWithToken(t, a.tokens["admin"], "DELETE", "/api/v1/tokens/"+out.ID, nil, nil))
		code, _ = call(t, s, out.Token, "GET", "/api/v1/connections", nil)
		assert.Equal(t, 401, code, "a revoked token")

		// An admin never grants more than it has, nor in another organization.
		assert.Equal(t, 403, s.APIWithToken(t, a.tokens["admin"], "POST", "/api/v1/tokens", map[string]any{"name": "up", "role": "operator"}, nil))
		assert.Equal(t, 403, s.APIWithToken(t, a.tokens["admin"], "POST", "/api/v1/users", map[string]any{"email": "x@b.example", "name": "X", "organization_id": b.org, "role": "viewer"}, nil))
		assert.Equal(t, 403, s.APIWithToken(t, a.tokens["billing"], "POST", "/api/v1/tokens", map[string]any{"name": "up", "role": "viewer"}, nil))
	})
}

func (r routeRule) bodyFor(t tenant) any {
	if r.body == nil {
		return nil
	}
	return r.body(t)
}

// ids are the tenant's identifiers, which no answer to another
// organization's token may carry.
func (t tenant) ids() []string {
	return []string{t.org, t.conn, t.agreement, t.invoice, t.exchange, t.user}
}

// gone is a tenant whose objects do not exist.
func gone(t tenant) tenant {
	return tenant{org: "org_nope", conn: "conn_nope", agreement: "agr_nope", invoice: "inv_nope", exchange: "xin_nope", po: "PO-nope", user: "usr_nope", tokens: t.tokens}
}

func routeRules(t *testing.T, s *apptest.Server) map[string]routeRule {
	p := func(f string) func(tenant) string {
		return func(tn tenant) string {
			r := strings.NewReplacer("{org}", tn.org, "{conn}", tn.conn, "{agreement}", tn.agreement, "{invoice}", tn.invoice,
				"{exchange}", tn.exchange, "{po}", tn.po, "{user}", tn.user)
			return r.Replace(f)
		}
	}
	orgBody := func(tn tenant) any { return map[string]any{"organization_id": tn.org} }
	// A token to revoke and a user to delete are made anew for each call.
	freshToken := func(tn tenant) string {
		if tn.org == "org_nope" {
			return "/api/v1/tokens/tok_nope"
		}
		id := mint(t, s, map[string]any{"name": "to revoke", "organization_id": tn.org, "role": "viewer", "id_only": true})
		return "/api/v1/tokens/" + id
	}
	freshUser := func(tn tenant) string {
		if tn.org == "org_nope" {
			return "/api/v1/users/usr_nope"
		}
		var u struct{ ID string }
		require.Equal(t, 201, s.API(t, "POST", "/api/v1/users", map[string]any{"email": fmt.Sprintf("gone-%d@%s.example", randN(), strings.ToLower(tn.org)), "name": "Gone", "organization_id": tn.org, "role": "viewer"}, &u))
		return "/api/v1/users/" + u.ID
	}
	return map[string]routeRule{
		"POST /api/v1/organizations":                        {min: "operator", kind: "global", path: p("/api/v1/organizations"), body: func(tenant) any { return map[string]any{"name": ""} }},
		"GET /api/v1/organizations":                         {min: "operator", kind: "global", path: p("/api/v1/organizations")},
		"GET /api/v1/organizations/:id":                     {min: "viewer", kind: "path", path: p("/api/v1/organizations/{org}")},
		"POST /api/v1/connections":                          {min: "admin", kind: "body", path: p("/api/v1/connections"), body: orgBody},
		"GET /api/v1/connections":                           {min: "viewer", kind: "query", path: p("/api/v1/connections?organization_id={org}")},
		"GET /api/v1/connections/:id":                       {min: "viewer", kind: "owned", path: p("/api/v1/connections/{conn}")},
		"PATCH /api/v1/connections/:id":                     {min: "admin", kind: "owned", path: p("/api/v1/connections/{conn}"), body: func(tenant) any { return map[string]any{} }},
		"POST /api/v1/connections/:id/disable":              {min: "admin", kind: "owned", path: p("/api/v1/connections/{conn}/disable")},
		"GET /api/v1/exchanges":                             {min: "viewer", kind: "query", path: p("/api/v1/exchanges?organization_id={org}")},
		"GET /api/v1/exchanges/:id":                         {min: "viewer", kind: "owned", path: p("/api/v1/exchanges/{exchange}")},
		"POST /api/v1/catalog/import":                       {min: "operator", kind: "global", path: p("/api/v1/catalog/import"), body: func(tenant) any { return map[string]any{} }},
		"GET /api/v1/products":                              {min: "viewer", kind: "query", path: p("/api/v1/products?organization_id={org}")},
		"GET /api/v1/offers/:id":                            {min: "operator", kind: "global", path: p("/api/v1/offers/offer-cloudsight-annual-contract")},
		"GET /api/v1/organizations/:id/private-marketplace": {min: "viewer", kind: "path", path: p("/api/v1/organizations/{org}/private-marketplace")},
		"PUT /api/v1/organizations/:id/private-marketplace": {min: "admin", kind: "path", path: p("/api/v1/organizations/{org}/private-marketplace"), body: func(tenant) any { return map[string]any{"enabled": false} }},
		"POST /api/v1/purchase-orders":                      {min: "billing", kind: "body", path: p("/api/v1/purchase-orders"), body: orgBody},
		"GET /api/v1/purchase-orders":                       {min: "viewer", kind: "query", path: p("/api/v1/purchase-orders?organization_id={org}")},
		"GET /api/v1/purchase-orders/:id":                   {min: "viewer", kind: "query", path: p("/api/v1/purchase-orders/{po}?organization_id={org}")},
		"PATCH /api/v1/purchase-orders/:id":                 {min: "billing", kind: "query", path: p("/api/v1/purchase-orders/{po}?organization_id={org}"), body: func(tenant) any { return map[string]any{"bill_from": "AP"} }},
		"GET /api/v1/agreements":                            {min: "viewer", kind: "query", path: p("/api/v1/agreements?organization_id={org}")},
		"GET /api/v1/agreements/:id":                        {min: "viewer", kind: "owned", path: p("/api/v1/agreements/{agreement}")},
		"PATCH /api/v1/agreements/:id":                      {min: "billing", kind: "owned", path: p("/api/v1/agreements/{agreement}"), body: func(tenant) any { return map[string]any{} }},
		"GET /api/v1/agreements/:id/charges":                {min: "viewer", kind: "owned", path: p("/api/v1/agreements/{agreement}/charges")},
		"GET /api/v1/outbox":                                {min: "billing", kind: "query", path: p("/api/v1/outbox?organization_id={org}")},
		"POST /api/v1/subscriptions":                        {min: "billing", kind: "body", path: p("/api/v1/subscriptions"), body: orgBody},
		"POST /api/v1/usage": {min: "billing", kind: "usage", path: p("/api/v1/usage"), body: func(tn tenant) any {
			return map[string]any{"records": []map[string]string{{"agreement_id": tn.agreement}}}
		}},
		"GET /api/v1/invoices":             {min: "viewer", kind: "query", path: p("/api/v1/invoices?organization_id={org}")},
		"GET /api/v1/invoices/:id/cxml":    {min: "viewer", kind: "owned", path: p("/api/v1/invoices/{invoice}/cxml")},
		"POST /api/v1/invoices/:id/resend": {min: "billing", kind: "owned", path: p("/api/v1/invoices/{invoice}/resend")},
		"POST /api/v1/billing/run":         {min: "operator", kind: "global", path: p("/api/v1/billing/run"), body: func(tenant) any { return map[string]any{"through": "soon"} }},
		"POST /api/v1/tokens":              {min: "admin", kind: "body", path: p("/api/v1/tokens"), body: func(tn tenant) any { return map[string]any{"name": "x", "organization_id": tn.org, "role": "viewer"} }},
		"GET /api/v1/tokens":               {min: "admin", kind: "query", path: p("/api/v1/tokens?organization_id={org}")},
		"DELETE /api/v1/tokens/:id":        {min: "admin", kind: "self", path: freshToken},
		"POST /api/v1/users": {min: "admin", kind: "body", path: p("/api/v1/users"), body: func(tn tenant) any {
			return map[string]any{"email": "x", "name": "x", "organization_id": tn.org, "role": "viewer"}
		}},
		"GET /api/v1/users":        {min: "admin", kind: "query", path: p("/api/v1/users?organization_id={org}")},
		"GET /api/v1/users/:id":    {min: "admin", kind: "self", path: p("/api/v1/users/{user}")},
		"PATCH /api/v1/users/:id":  {min: "admin", kind: "self", path: p("/api/v1/users/{user}"), body: func(tenant) any { return map[string]any{"name": "Renamed"} }},
		"DELETE /api/v1/users/:id": {min: "admin", kind: "self", path: freshUser},
		"GET /api/v1/audit":        {min: "admin", kind: "query", path: p("/api/v1/audit?organization_id={org}")},
	}
}

// anonymous replaces in an answer the ids a request named (its path's
// segments and the tenant's ids), so two answers about different objects
// compare by their words.
func anonymous(body, path string, ids []string) string {
	for _, seg := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '?' || r == '=' || r == '&' }) {
		if len(seg) > 3 {
			body = strings.ReplaceAll(body, seg, "ID")
		}
	}
	for _, id := range ids {
		body = strings.ReplaceAll(body, id, "ID")
	}
	return body
}

var counter int

func randN() int { counter++; return counter }

// mint makes a token with the operator's bootstrap token and returns its
// secret (or its id, with "id_only").
func mint(t *testing.T, s *apptest.Server, in map[string]any) string {
	t.Helper()
	idOnly := in["id_only"] == true
	delete(in, "id_only")
	var out struct{ ID, Token string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/tokens", in, &out))
	if idOnly {
		return out.ID
	}
	return out.Token
}

// newTenant makes an organization (PO numbers at checkout) with a
// connection, an agreement, an invoice, a logged exchange, a PO, a user
// and a token of each role.
func newTenant(t *testing.T, s *apptest.Server, name string) tenant {
	t.Helper()
	var org struct{ ID string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/organizations", map[string]string{"name": "Tenant " + name}, &org))
	tn := tenant{org: org.ID, po: "PO-" + name, tokens: map[string]string{}}
	var conn struct{ ID string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/connections", map[string]any{
		"organization_id": org.ID, "name": "Coupa " + name, "system": "coupa",
		"buyer_credential":    map[string]string{"domain": "NetworkID", "identity": "Tenant" + name},
		"supplier_credential": map[string]string{"domain": "DUNS", "identity": strings.Repeat(map[string]string{"A": "1", "B": "2"}[name], 9)},
		"shared_secret":       "tenant-secret-" + name,
	}, &conn))
	tn.conn = conn.ID
	// The agreement comes from a subscription at checkout, quicker to make
	// than a punchout and an order; the organization is switched to it
	// only for that.
	setMode := func(mode string) {
		_, err := s.App.DB.W.Exec(s.App.DB.Rebind(`UPDATE organizations SET po_mode = ? WHERE id = ?`), mode, org.ID)
		require.NoError(t, err)
	}
	setMode("checkout")
	defer setMode("procurement_system")
	var ag struct{ ID string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/subscriptions", map[string]string{
		"organization_id": org.ID, "offer_id": "offer-cloudsight-annual-contract", "po_number": tn.po + "-SUB",
	}, &ag))
	tn.agreement = ag.ID
	require.Equal(t, 200, s.API(t, "POST", "/api/v1/billing/run", map[string]string{"through": "2026-12-31"}, nil))
	var invs struct{ Invoices []struct{ ID string } }
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/invoices?organization_id="+org.ID, nil, &invs))
	require.NotEmpty(t, invs.Invoices)
	tn.invoice = invs.Invoices[0].ID
	rec := exchange.NewOutRecord(s.App.Config.Now(), "req", "ProfileResponse", "p-"+name+"@x", []byte("<cXML/>"), conn.ID, org.ID)
	require.NoError(t, exchange.InsertRecord(context.Background(), s.App.DB.W, rec))
	tn.exchange = rec.ID
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/purchase-orders", map[string]any{
		"id": tn.po, "organization_id": org.ID, "effective_month": "2026-01", "expiration_month": "2099-12",
		"line_items": []map[string]string{{"type": "all", "start_month": "2026-01", "end_month": "2099-12", "amount": "100.00"}},
	}, nil))
	var u struct{ ID string }
	require.Equal(t, 201, s.API(t, "POST", "/api/v1/users", map[string]any{"email": "viewer@" + strings.ToLower(name) + ".example", "name": "Viewer " + name, "organization_id": org.ID, "role": "viewer"}, &u))
	tn.user = u.ID
	for _, role := range []string{"viewer", "billing", "admin"} {
		tn.tokens[role] = mint(t, s, map[string]any{"name": role + " " + name, "organization_id": org.ID, "role": role})
	}
	return tn
}

// call makes a request with a token and returns its status and body.
func call(t *testing.T, s *apptest.Server, token, method, path string, in any) (int, string) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

// Every change made through the API is in the audit log with its actor,
// organization, object and changed fields; secrets only as changed.
func TestChangesAreAudited(t *testing.T) {
	apptest.Engines(t, func(t *testing.T, s *apptest.Server) {
		a := newTenant(t, s, "A")
		admin := a.tokens["admin"]
		var tokens struct{ Tokens []struct{ ID, Name string } }
		require.Equal(t, 200, s.APIWithToken(t, admin, "GET", "/api/v1/tokens", nil, &tokens))
		adminID := ""
		for _, tk := range tokens.Tokens {
			if tk.Name == "admin A" {
				adminID = tk.ID
			}
		}
		require.NotEmpty(t, adminID)

		require.Equal(t, 200, s.APIWithToken(t, admin, "PATCH", "/api/v1/connections/"+a.conn, map[string]any{
			"shared_secret": "rotated-secret-for-audit", "auto_approve_free_byol": true}, nil))
		require.Equal(t, 200, s.APIWithToken(t, admin, "PATCH", "/api/v1/purchase-orders/"+a.po, map[string]any{"bill_from": "Accounts Payable"}, nil))
		require.Equal(t, 200, s.APIWithToken(t, admin, "PATCH", "/api/v1/agreements/"+a.agreement, map[string]any{"po_number": "PO-A-NEW"}, nil))
		require.Equal(t, 200, s.APIWithToken(t, admin, "PUT", "/api/v1/organizations/"+a.org+"/private-marketplace", map[string]any{"enabled": true, "product_ids": []string{"prod-cloudsight"}}, nil))
		require.Equal(t, 200, s.APIWithToken(t, admin, "PATCH", "/api/v1/users/"+a.user, map[string]any{"name": "Viewer Renamed", "password": "a new long password"}, nil))

		var log struct {
			Events []struct {
				Actor                        struct{ Kind, ID string }
				OrganizationID               *string `json:"organization_id"`
				Action, ObjectType, ObjectID string
				Source                       string
				Changes                      map[string]struct{ Before, After any }
			}
		}
		require.Equal(t, 200, s.APIWithToken(t, admin, "GET", "/api/v1/audit?since=2000-01-01T00:00:00Z&limit=1000", nil, &log))
		byAction := map[string]int{}
		for i, e := range log.Events {
			require.NotNil(t, e.OrganizationID, "an organization's token sees its organization's events only")
			assert.Equal(t, a.org, *e.OrganizationID)
			byAction[e.Action] = i
		}
		for action, field := range map[string]string{
			"connection.update": "auto_approve_free_byol", "purchase_order.update": "bill_from", "agreement.update": "po_number",
			"private_marketplace.update": "enabled", "user.update": "name",
		} {
			i, ok := byAction[action]
			if !assert.True(t, ok, "%s is in the audit log", action) {
				continue
			}
			e := log.Events[i]
			assert.Equal(t, "token", e.Actor.Kind, action)
			assert.Equal(t, adminID, e.Actor.ID, action)
			assert.Equal(t, "127.0.0.1", e.Source, action)
			assert.Contains(t, e.Changes, field, action)
		}
		conn := log.Events[byAction["connection.update"]]
		assert.Equal(t, "(secret, changed)", conn.Changes["shared_secret"].After)
		assert.Equal(t, true, conn.Changes["auto_approve_free_byol"].After)
		assert.Equal(t, false, conn.Changes["auto_approve_free_byol"].Before)
		assert.Equal(t, "(secret, changed)", log.Events[byAction["user.update"]].Changes["password"].After)
		// Changes made by the operator's setup are there too, as the bootstrap token's.
		var all struct {
			Events []struct {
				Actor  struct{ Kind string }
				Action string
			}
		}
		require.Equal(t, 200, s.API(t, "GET", "/api/v1/audit?organization_id="+a.org+"&since=2000-01-01T00:00:00Z&limit=1000", nil, &all))
		kinds := map[string]string{}
		for _, e := range all.Events {
			kinds[e.Action] = e.Actor.Kind
		}
		for _, action := range []string{"organization.create", "connection.create", "purchase_order.create", "user.create", "token.create"} {
			assert.Equal(t, "bootstrap", kinds[action], action)
		}

		var raw []string
		require.NoError(t, s.App.DB.R.Select(&raw, `SELECT changes FROM audit_events`))
		for _, c := range raw {
			assert.NotContains(t, c, "rotated-secret-for-audit")
			assert.NotContains(t, c, "a new long password")
			assert.NotContains(t, c, "tenant-secret-A")
		}
	})
}

// A token past its expiry gets 401, and its last use is kept.
func TestExpiredTokenIsRefused(t *testing.T) {
	clock := apptest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := apptest.Start(t, dbtest.SQLiteDSN(t), apptest.WithClock(clock))
	secret := mint(t, s, map[string]any{"name": "temp", "organization_id": "org_demo", "role": "viewer", "expires_at": "2026-12-01T10:00:00Z"})
	code, body := call(t, s, secret, "GET", "/api/v1/connections", nil)
	require.Equal(t, 200, code, body)
	clock.Advance(2 * time.Hour)
	code, body = call(t, s, secret, "GET", "/api/v1/connections", nil)
	assert.Equal(t, 401, code)
	assert.Contains(t, body, "expired at 2026-12-01T10:00:00Z")
	var list struct {
		Tokens []struct {
			Name       string
			LastUsedAt *time.Time `json:"last_used_at"`
		}
	}
	require.Equal(t, 200, s.API(t, "GET", "/api/v1/tokens?organization_id=org_demo", nil, &list))
	require.Len(t, list.Tokens, 1)
	require.NotNil(t, list.Tokens[0].LastUsedAt)
	assert.True(t, list.Tokens[0].LastUsedAt.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
}
