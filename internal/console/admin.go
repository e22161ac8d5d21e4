package console

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
	"github.com/cxmlgate/punchout/punchout"
)

// Pages are the console's pages past sign-in: home, connections and
// invoices.
// Each page reads and changes through the services the admin API's
// handlers call, with the same role and organization rules as its
// routes (internal/app/routes.go): a page needs the least role its API
// route needs, an organization's person sees its own organization only
// (another's object is answered 404, as a missing one), and an operator
// sees every organization and picks one. The signed-in person is put in
// the request's context as access.Guard does, so every change is in the
// audit log under their name.
type Pages struct {
	Console       *Console
	Organizations *organization.Store
	Connections   *punchout.Connections
	POs           *invoicing.PurchaseOrders
	Billing       *invoicing.Billing
	Catalog       *catalog.Store
	// Exchanges reads the exchange log.
	Exchanges sqlx.ExtContext
	// CXML answers a cXML document as POST /cxml does (Send a test).
	CXML func(ctx context.Context, body []byte, requestID string) []byte
	// BaseURL is the gateway's public URL.
	BaseURL string
	Now     func() time.Time
}

//go:embed templates/admin/*.html
var adminFS embed.FS

//go:embed static/copy.js
var copyJS []byte

var adminFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

var adminPages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"home", "connections", "connection", "connection_form", "error", "invoices", "invoice"} {
		m[name] = template.Must(template.New("").Funcs(adminFuncs).ParseFS(adminFS, "templates/admin/layout.html", "templates/admin/"+name+".html"))
	}
	return m
}()

// adminCSP lets the pages run their one vendored script (copy buttons).
const adminCSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// view is what every page's layout needs, with the page's own data.
type view struct {
	Title string
	// Nav is the navigation entry of this page.
	Nav    string
	Error  string
	Notice string
	Me     *access.User
	// OrgName names the signed-in person's organization ("the
	// marketplace" for an operator).
	OrgName string
	P       access.Principal
	// Orgs is the operator's organization picker; Org the one picked.
	Orgs []organization.Organization
	Org  string
	Data any
}

type ctxUser struct{}

// SignedIn is the middleware of every page past sign-in: it sends a
// person who is not signed in to /admin/login, and puts the signed-in
// person in the request's context as the admin API's principal would be.
// A page's error a person can act on is answered as a page (fail).
func (p *Pages) SignedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		u, err := p.Console.current(ec)
		if err != nil {
			return err
		}
		if u == nil {
			if ec.Request().Method != http.MethodGet {
				return errs.E(errs.Unauthorized, "you are signed out: sign in at %s/admin/login, then send the form again", p.BaseURL)
			}
			return ec.Redirect(http.StatusSeeOther, "/admin/login")
		}
		pr := u.Principal()
		pr.Source = ec.RealIP()
		ctx := access.WithPrincipal(ec.Request().Context(), pr)
		ctx = context.WithValue(ctx, ctxUser{}, u)
		ec.SetRequest(ec.Request().WithContext(ctx))
		if err := next(ec); err != nil {
			return p.fail(ec, err)
		}
		return nil
	}
}

func principal(ec echo.Context) access.Principal {
	pr, _ := access.FromContext(ec.Request().Context())
	return pr
}

// need refuses a person whose role is below min.
func need(ec echo.Context, min access.Role) error {
	if pr := principal(ec); !pr.Role.AtLeast(min) {
		return errs.E(errs.Forbidden, "this needs the role %s or above; you are %s: ask your organization's admin", min, pr.Role)
	}
	return nil
}

// orgOf is the organization a page shows: a person's own, or for an
// operator the one picked (?organization_id=; empty for every
// organization). A person naming another organization is answered as if
// it did not exist.
func orgOf(ec echo.Context) (string, error) {
	pr := principal(ec)
	q := strings.TrimSpace(ec.QueryParam("organization_id"))
	if pr.Scoped() {
		if q != "" && q != pr.OrganizationID {
			return "", access.NotFound("organization", q)
		}
		return pr.OrganizationID, nil
	}
	return q, nil
}

// owned refuses an object of another organization as the API does: 404,
// in the words of a missing one.
func owned(ec echo.Context, noun, id, org string) error {
	if !principal(ec).Sees(org) {
		return access.NotFound(noun, id)
	}
	return nil
}

func (p *Pages) render(ec echo.Context, status int, name string, v view) error {
	ctx := ec.Request().Context()
	v.Me, _ = ctx.Value(ctxUser{}).(*access.User)
	v.P = principal(ec)
	v.OrgName = "the marketplace"
	if v.P.Scoped() {
		if o, err := p.Organizations.Get(ctx, v.P.OrganizationID); err == nil {
			v.OrgName = o.Name
		}
	} else if v.Orgs == nil {
		v.Orgs, _ = p.Organizations.List(ctx)
	}
	var buf bytes.Buffer
	if err := adminPages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	ec.Response().Header().Set("Content-Security-Policy", adminCSP)
	return ec.HTMLBlob(status, buf.Bytes())
}

// fail answers an error the person can act on (a missing or foreign
// object, a role too low) as a page of the console, with its status;
// anything else goes to the server's error handler.
func (p *Pages) fail(ec echo.Context, err error) error {
	code := errs.CodeOf(err)
	status := map[errs.Code]int{errs.NotFound: http.StatusNotFound, errs.Forbidden: http.StatusForbidden,
		errs.Invalid: http.StatusBadRequest, errs.Conflict: http.StatusConflict, errs.Unauthorized: http.StatusUnauthorized}[code]
	if status == 0 {
		return err
	}
	return p.render(ec, status, "error", view{Title: http.StatusText(status), Data: errs.MessageOf(err)})
}

// Script answers GET /admin/static/copy.js, the copy buttons.
func (p *Pages) Script(ec echo.Context) error {
	ec.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return ec.Blob(http.StatusOK, "text/javascript; charset=utf-8", copyJS)
}

// pageSize is how many rows a list shows at once.
const pageSize = 20

// pager is one page of a list, with the links to the pages around it.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

// paginate cuts n rows into pages by ?page=, keeping the other query
// parameters (the filters) in the links.
func paginate(ec echo.Context, n int) (from, to int, pg pager) {
	page, _ := strconv.Atoi(ec.QueryParam("page"))
	pages := max(1, (n+pageSize-1)/pageSize)
	page = min(max(page, 1), pages)
	link := func(to int) string {
		q := url.Values{}
		for k, v := range ec.QueryParams() {
			if k != "page" {
				q[k] = v
			}
		}
		q.Set("page", strconv.Itoa(to))
		return ec.Request().URL.Path + "?" + q.Encode()
	}
	pg = pager{Page: page, Pages: pages, Total: n}
	if page > 1 {
		pg.Prev = link(page - 1)
	}
	if page < pages {
		pg.Next = link(page + 1)
	}
	from = (page - 1) * pageSize
	return from, min(from+pageSize, n), pg
}
