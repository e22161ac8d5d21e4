package access

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/throttle"
	"github.com/cxmlgate/punchout/internal/web"
)

// Scope says how a route finds the organization of what it touches.
type Scope int

// The scopes.
const (
	// Global routes touch no one organization (organizations, the
	// catalog, billing runs): an operator's only.
	Global Scope = iota + 1
	// QueryOrg routes take ?organization_id=. A scoped principal's own
	// is filled in when it is left out; another's is refused (403).
	QueryOrg
	// PathOrg routes name an organization as :id; another's is answered
	// 404.
	PathOrg
	// Owned routes name an object as :id whose organization Owner finds;
	// another's is answered 404, as the handler answers a missing one.
	Owned
	// BodyOrg routes create something for the organization_id of their
	// JSON body; a scoped principal's own is the only one accepted (403).
	BodyOrg
	// Self routes scope what they do by the principal themselves (users,
	// tokens): the handler reads it from the context.
	Self
)

// Policy is what a route requires.
type Policy struct {
	// Role is the least role the route needs.
	Role  Role
	Scope Scope
	// Owner returns the organization of the object the route names (for
	// Owned), or the error the handler gives for a missing one.
	Owner func(ctx context.Context, c echo.Context) (string, error)
	// Noun names the object in the answer to another organization's
	// (NotFound), as its Owner names a missing one.
	Noun string
	// Check, when set, refuses a request whose body names objects of
	// another organization (for bodies that carry object ids, such as
	// usage records).
	Check func(ctx context.Context, p Principal, body []byte) error
}

// Guard authenticates the admin API's callers and enforces each route's
// policy.
type Guard struct {
	// Bootstrap is the operator's token given with --admin-token.
	Bootstrap string
	Tokens    *Tokens
	Failures  *throttle.Limiter
	// Sessions, when set, authenticates a request by the console's
	// session (a signed-in person), when it carries no bearer token.
	Sessions func(c echo.Context) (Principal, bool)
	// MaxBody bounds the JSON bodies read to check their organization.
	MaxBody int64
	// Query, when set, lists for each route ("METHOD /path") the query
	// parameters it takes; any other is refused 400 before the handler
	// runs, so a misspelt filter never lists everything.
	Query map[string]map[string]bool
	// routes is every route registered through the guard, with its
	// policy (Routes).
	routes map[string]Policy
}

// Group registers routes on an echo group, each with its policy.
type Group struct {
	g     *echo.Group
	guard *Guard
	// prefix is the group's path, for the route list.
	prefix string
}

// Group wraps g, whose routes start with prefix.
func (gd *Guard) Group(g *echo.Group, prefix string) *Group {
	if gd.routes == nil {
		gd.routes = map[string]Policy{}
	}
	return &Group{g: g, guard: gd, prefix: prefix}
}

// Handle registers a route with its policy.
func (g *Group) Handle(method, path string, h echo.HandlerFunc, p Policy) {
	if p.Role == "" || p.Scope == 0 || (p.Scope == Owned && p.Owner == nil) {
		panic("access: route " + method + " " + path + " has an incomplete policy")
	}
	key := method + " " + g.prefix + path
	g.guard.routes[key] = p
	g.g.Add(method, path, g.guard.enforce(key, p, h))
}

// Routes returns every guarded route ("METHOD /path") and its policy.
func (gd *Guard) Routes() map[string]Policy { return gd.routes }

// Authenticate returns the principal of a request: the bootstrap token,
// an API token, or a console session.
func (gd *Guard) Authenticate(c echo.Context) (Principal, error) {
	source := c.RealIP()
	if gd.Failures != nil && gd.Failures.Blocked(source) {
		return Principal{}, web.TooManyFailures(c, gd.Failures)
	}
	got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok {
		if gd.Sessions != nil {
			if p, ok := gd.Sessions(c); ok {
				p.Source = source
				return p, nil
			}
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="punchout admin"`)
		return Principal{}, errs.E(errs.Unauthorized, "a valid bearer token is required (Authorization: Bearer TOKEN)")
	}
	got = strings.TrimSpace(got)
	if gd.Bootstrap != "" && subtle.ConstantTimeCompare([]byte(got), []byte(gd.Bootstrap)) == 1 {
		return Principal{Kind: KindBootstrap, ID: "bootstrap", Role: Operator, Source: source}, nil
	}
	p, err := gd.Tokens.Authenticate(c.Request().Context(), got)
	if errs.Is(err, errs.Unauthorized) {
		if gd.Failures != nil {
			gd.Failures.Fail(source)
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="punchout admin", error="invalid_token"`)
		return Principal{}, errs.E(errs.Unauthorized, "a valid bearer token is required: %s", errs.MessageOf(err))
	}
	if err != nil {
		return Principal{}, err
	}
	p.Source = source
	return p, nil
}

func (gd *Guard) enforce(route string, pol Policy, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := gd.Authenticate(c)
		if err != nil {
			return err
		}
		if gd.Query != nil {
			known := gd.Query[route]
			for name := range c.Request().URL.Query() {
				if !known[name] {
					return errs.E(errs.Invalid, "unknown query parameter %q; this endpoint takes %s", cut(name, 64), list(known))
				}
			}
		}
		ctx := WithPrincipal(c.Request().Context(), p)
		c.SetRequest(c.Request().WithContext(ctx))
		if !p.Role.AtLeast(pol.Role) {
			return errs.E(errs.Forbidden, "this needs the role %s or above; this credential's role is %s", pol.Role, p.Role)
		}
		if err := gd.scope(ctx, c, p, pol); err != nil {
			return err
		}
		return next(c)
	}
}

func (gd *Guard) scope(ctx context.Context, c echo.Context, p Principal, pol Policy) error {
	if pol.Check != nil && p.Scoped() {
		body, err := gd.peekBody(c)
		if err != nil {
			return err
		}
		if err := pol.Check(ctx, p, body); err != nil {
			return err
		}
	}
	switch pol.Scope {
	case Global:
		if p.Scoped() {
			return errs.E(errs.Forbidden, "this is for the marketplace's operators only")
		}
	case QueryOrg:
		if !p.Scoped() {
			return nil
		}
		q := c.Request().URL.Query()
		switch org := q.Get("organization_id"); {
		case org == "":
			// Before any handler reads the query (echo keeps the first
			// reading).
			q.Set("organization_id", p.OrganizationID)
			c.Request().URL.RawQuery = q.Encode()
		case org != p.OrganizationID:
			return errs.E(errs.Forbidden, "this credential reads organization %s only", p.OrganizationID)
		}
	case PathOrg:
		if !p.Sees(c.Param("id")) {
			return errs.E(errs.NotFound, "organization %s not found", c.Param("id"))
		}
	case Owned:
		org, err := pol.Owner(ctx, c)
		if err != nil {
			return err
		}
		if !p.Sees(org) {
			return NotFound(pol.Noun, c.Param("id"))
		}
	case BodyOrg:
		if !p.Scoped() {
			return nil
		}
		body, err := gd.peekBody(c)
		if err != nil {
			return err
		}
		var in struct {
			OrganizationID string `json:"organization_id"`
		}
		_ = json.Unmarshal(body, &in) // The handler says what is wrong with a bad body.
		if in.OrganizationID != p.OrganizationID {
			return errs.E(errs.Forbidden, "this credential acts for organization %s only: set organization_id to it", p.OrganizationID)
		}
	}
	return nil
}

// peekBody reads the request's body and puts it back for the handler.
func (gd *Guard) peekBody(c echo.Context) ([]byte, error) {
	limit := gd.MaxBody
	if limit <= 0 {
		limit = 1 << 20
	}
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		return nil, errs.E(errs.Invalid, "the request body is not valid JSON for this endpoint: it is longer than %d bytes", limit)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// NotFound is the answer about an object that does not exist, or that
// belongs to another organization: the same words for both.
func NotFound(noun, id string) error {
	return errs.E(errs.NotFound, "%s %s not found", noun, id)
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// list names the query parameters an endpoint takes.
func list(names map[string]bool) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
