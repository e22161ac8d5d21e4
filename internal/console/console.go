package console

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/throttle"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"login"} {
		m[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// Defaults.
const (
	DefaultIdleTimeout = 2 * time.Hour
	// Lifetime is the longest a session lasts, however busy: a working
	// day. Then its person signs in again.
	Lifetime = 12 * time.Hour
)

// Session keys.
const (
	keyUser         = "user_id"
	keyOIDCState    = "oidc_state"
	keyOIDCNonce    = "oidc_nonce"
	keyOIDCVerifier = "oidc_verifier"
	keyOIDCStarted  = "oidc_started"
)

// Config is what New needs.
type Config struct {
	Users *access.Users
	// OrganizationName names an organization for the console's header.
	OrganizationName func(ctx context.Context, id string) (string, error)
	Store            *Store
	// BaseURL is the gateway's public URL: an https one makes the cookie
	// Secure, with the __Host- prefix.
	BaseURL string
	// Failures limits failed sign-ins per source address (the one the
	// admin API and /cxml share); Accounts per account.
	Failures *throttle.Limiter
	Accounts *throttle.Accounts
	// OIDC, when set, offers single sign-on.
	OIDC *OIDC
	Log  *slog.Logger
}

// Console serves the pages under /admin.
type Console struct {
	Config
	sm  *scs.SessionManager
	cop *http.CrossOriginProtection
}

// CookieName is the session cookie's name over http; over https it is
// "__Host-" + CookieName.
const CookieName = "punchout_console"

// New builds the console.
func New(cfg Config) (*Console, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	sm := scs.New()
	sm.Store = cfg.Store
	sm.Lifetime = cfg.Store.Lifetime
	// The store ends idle sessions by the gateway's clock (Store).
	sm.IdleTimeout = 0
	sm.HashTokenInStore = true
	sm.Cookie = scs.SessionCookie{
		Name:     CookieName,
		HttpOnly: true,
		Path:     "/",
		SameSite: http.SameSiteLaxMode,
		// A cookie for the browser's session only: the server ends it
		// sooner when idle.
		Persist: false,
	}
	if base.Scheme == "https" {
		sm.Cookie.Name = "__Host-" + CookieName
		sm.Cookie.Secure = true
	}
	cop := http.NewCrossOriginProtection()
	// Behind a proxy the Host header may not be the public one.
	if err := cop.AddTrustedOrigin(base.Scheme + "://" + base.Host); err != nil {
		return nil, err
	}
	return &Console{Config: cfg, sm: sm, cop: cop}, nil
}

// Protect refuses a form posted from another origin (any method but GET,
// HEAD and OPTIONS), and keeps console pages out of caches and frames.
func (c *Console) Protect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		// No form-action: browsers apply it to the redirects a form
		// leads to, and the SSO button's leads to the provider.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		// A sign-in form is small; nothing under /admin reads a large body.
		ec.Request().Body = http.MaxBytesReader(ec.Response(), ec.Request().Body, maxForm)
		if err := c.cop.Check(ec.Request()); err != nil {
			return errs.E(errs.Forbidden, "this form was sent from another site, so it was refused: open the console at %s/admin and send it from there", c.BaseURL)
		}
		return next(ec)
	}
}

// maxForm bounds the body of a console form.
const maxForm = 64 << 10

// savedKey marks a request whose session was written.
const savedKey = "console_session_saved"

// Sessions loads the request's console session, and writes it back (and
// its cookie) before the answer's headers are sent.
func (c *Console) Sessions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		r := ec.Request()
		ec.Response().Header().Add("Vary", "Cookie")
		var token string
		if ck, err := r.Cookie(c.sm.Cookie.Name); err == nil {
			token = ck.Value
		}
		ctx, err := c.sm.Load(r.Context(), token)
		if err != nil {
			return err
		}
		ec.SetRequest(r.WithContext(ctx))
		ec.Response().Before(func() {
			if err := c.save(ec); err != nil {
				c.Log.Error("console session not saved", "err", err)
				ec.Response().Status = http.StatusInternalServerError
			}
		})
		return next(ec)
	}
}

// save writes the session when it changed, once per request: handlers
// that must know it was written call it before they answer.
func (c *Console) save(ec echo.Context) error {
	if ec.Get(savedKey) != nil {
		return nil
	}
	ec.Set(savedKey, true)
	ctx := ec.Request().Context()
	switch c.sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := c.sm.Commit(ctx)
		if err != nil {
			return err
		}
		c.sm.WriteSessionCookie(ctx, ec.Response(), token, expiry)
	case scs.Destroyed:
		c.sm.WriteSessionCookie(ctx, ec.Response(), "", time.Time{})
	}
	return nil
}

// current returns the signed-in user, or nil. A session whose user was
// disabled or deleted is ended.
func (c *Console) current(ec echo.Context) (*access.User, error) {
	ctx := ec.Request().Context()
	id := c.sm.GetString(ctx, keyUser)
	if id == "" {
		return nil, nil
	}
	u, err := c.Users.ByID(ctx, id)
	if errs.Is(err, errs.NotFound) || (err == nil && u.Disabled) {
		return nil, c.sm.Destroy(ctx)
	}
	return u, err
}

type page struct {
	Title string
	Error string
	// login
	Email string
	SSO   bool
	// home
	Name, Role, Organization string
}

func (c *Console) render(ec echo.Context, status int, name string, p page) error {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return err
	}
	return ec.HTMLBlob(status, buf.Bytes())
}

func (c *Console) loginPage(ec echo.Context, status int, email, msg string) error {
	return c.render(ec, status, "login", page{Title: "Sign in", Email: email, Error: msg, SSO: c.OIDC != nil})
}

// LoginForm answers GET /admin/login.
func (c *Console) LoginForm(ec echo.Context) error {
	u, err := c.current(ec)
	if err != nil {
		return err
	}
	if u != nil {
		return ec.Redirect(http.StatusSeeOther, "/admin")
	}
	return c.loginPage(ec, http.StatusOK, "", "")
}

// Messages of the sign-in page.
const (
	msgWrong    = "Wrong email or password."
	msgDisabled = "This account is disabled: ask your organization's admin."
	msgNoInvite = "No invitation for this email: ask your organization's admin."
	msgTooMany  = "Too many attempts, wait %s, then try again."
)

// maxField is the longest email or password the sign-in form takes.
const maxField = 200

// accountKey is the key of an email in the per-account limit: its
// normal form, or, for something that is not an address, its trimmed
// lower case (so garbage is limited too, and costs one key).
func accountKey(email string) string {
	if e, err := access.NormalEmail(email); err == nil {
		return e
	}
	return strings.ToLower(strings.TrimSpace(email))
}

// wait says how long a wait is, rounded up, in words.
func wait(d time.Duration) string {
	if d < time.Minute {
		n := int(math.Ceil(d.Seconds()))
		if n <= 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	}
	n := int(math.Ceil(d.Minutes()))
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

// throttled answers a sign-in refused for too many failures.
func (c *Console) throttled(ec echo.Context, email string, d time.Duration) error {
	ec.Response().Header().Set(echo.HeaderRetryAfter, fmt.Sprint(int(math.Ceil(d.Seconds()))))
	return c.loginPage(ec, http.StatusTooManyRequests, email, fmt.Sprintf(msgTooMany, wait(d)))
}

// Login answers POST /admin/login: email and password.
func (c *Console) Login(ec echo.Context) error {
	ctx := ec.Request().Context()
	source := ec.RealIP()
	if err := ec.Request().ParseForm(); err != nil {
		return c.loginPage(ec, http.StatusRequestEntityTooLarge, "", "This form is too large to be a sign-in.")
	}
	email, password := ec.FormValue("email"), ec.FormValue("password")
	if len(email) > maxField || len(password) > maxField {
		return c.loginPage(ec, http.StatusBadRequest, "", "The email and the password are at most 200 characters each.")
	}
	account := accountKey(email)
	if d := c.Failures.Wait(source); d > 0 {
		return c.throttled(ec, email, d)
	}
	if d := c.Accounts.Wait(account); d > 0 {
		return c.throttled(ec, email, d)
	}
	si := access.SignIn{Method: access.MethodPassword, Source: source}
	u, err := c.Users.ByEmail(ctx, email)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	// With no user or no password, this takes as long as a wrong one.
	if !access.CheckPassword(hash, password) {
		c.Failures.Fail(source)
		c.Accounts.Fail(account)
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "no such user"
		case hash == "":
			reason = "no password: single sign-on only"
		}
		if err := c.Users.SignInFailed(ctx, u, email, reason, si); err != nil {
			return err
		}
		return c.loginPage(ec, http.StatusUnauthorized, email, msgWrong)
	}
	if u.Disabled {
		if err := c.Users.SignInFailed(ctx, u, email, "disabled", si); err != nil {
			return err
		}
		return c.loginPage(ec, http.StatusForbidden, email, msgDisabled)
	}
	c.Accounts.Reset(account)
	return c.signIn(ec, u, si)
}

// signIn starts u's session under a new token (so that a token planted
// before sign-in is worth nothing after it) and goes to /admin.
func (c *Console) signIn(ec echo.Context, u *access.User, si access.SignIn) error {
	ctx := ec.Request().Context()
	if err := c.Users.SignedInAs(ctx, u, si); err != nil {
		return err
	}
	// Nothing from before sign-in is carried over, under a new token.
	if err := c.sm.Clear(ctx); err != nil {
		return err
	}
	if err := c.sm.RenewToken(ctx); err != nil {
		return err
	}
	c.sm.Put(ctx, keyUser, u.ID)
	if err := c.save(ec); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, "/admin")
}

// Logout answers POST /admin/logout: the session is deleted from the
// store, and its cookie from the browser.
func (c *Console) Logout(ec echo.Context) error {
	ctx := ec.Request().Context()
	u, err := c.current(ec)
	if err != nil {
		return err
	}
	if u != nil {
		if err := c.Users.SignedOut(ctx, u, ec.RealIP()); err != nil {
			return err
		}
	}
	if err := c.sm.Destroy(ctx); err != nil {
		return err
	}
	if err := c.save(ec); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, "/admin/login")
}

// Principal authenticates an admin API request by its console session
// cookie, for access.Guard.Sessions: the signed-in person, with their
// role and organization, as a token of theirs would be. A request that
// fails http.CrossOriginProtection (a POST, PATCH or DELETE sent from
// another origin) is not authenticated by its cookie at all, so a page
// elsewhere cannot act with the person's rights; with SameSite=Lax the
// browser does not even send the cookie on a cross-site POST, and no
// API answer allows cross-origin reading (no CORS). A disabled user's
// cookie authenticates nothing.
func (c *Console) Principal(ec echo.Context) (access.Principal, bool) {
	r := ec.Request()
	ck, err := r.Cookie(c.sm.Cookie.Name)
	if err != nil || ck.Value == "" || c.cop.Check(r) != nil {
		return access.Principal{}, false
	}
	ctx, err := c.sm.Load(r.Context(), ck.Value)
	if err != nil {
		c.Log.Error("console session", "err", err)
		return access.Principal{}, false
	}
	id := c.sm.GetString(ctx, keyUser)
	if id == "" {
		return access.Principal{}, false
	}
	u, err := c.Users.ByID(ctx, id)
	if err != nil || u.Disabled {
		if err != nil && !errs.Is(err, errs.NotFound) {
			c.Log.Error("console session user", "err", err)
		}
		return access.Principal{}, false
	}
	return u.Principal(), true
}
