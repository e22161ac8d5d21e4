package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/web"
)

// OIDC is single sign-on through an OpenID Connect provider, by the
// authorization code flow with PKCE, state and nonce. The user is the
// one whose email the provider says it verified; no user is created
// here: an admin invites a person by creating their user (without a
// password), and the first sign-in links that user to the provider's
// identity (access.Users.SignedInAs).
type OIDC struct {
	issuer, clientID, clientSecret, redirectURL string

	log    *slog.Logger
	client *http.Client

	// The provider's configuration is discovered at the first sign-in
	// (and again after a failed discovery), so a provider that is down
	// when the gateway starts does not keep it from starting.
	mu       sync.Mutex
	config   *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC returns the single sign-on of the given provider, or nil when
// none is configured. Its redirect URL is {baseURL}/admin/oidc/callback.
func NewOIDC(issuer, clientID, clientSecret, baseURL string, log *slog.Logger) (*OIDC, error) {
	set := 0
	for _, v := range []string{issuer, clientID, clientSecret} {
		if v != "" {
			set++
		}
	}
	switch set {
	case 0:
		return nil, nil
	case 3:
	default:
		return nil, errors.New("--oidc-issuer, --oidc-client-id and --oidc-client-secret go together: give all three, or none")
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return nil, fmt.Errorf("--oidc-issuer %q must be an https URL (http only on a loopback address, for tests)", issuer)
	}
	return &OIDC{
		issuer: issuer, clientID: clientID, clientSecret: clientSecret,
		redirectURL: strings.TrimRight(baseURL, "/") + "/admin/oidc/callback",
		log:         log,
		client:      &http.Client{Timeout: 15 * time.Second},
	}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// discover returns the OAuth 2 configuration and the ID token verifier,
// discovering the provider the first time.
func (o *OIDC) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.config != nil {
		return o.config, o.verifier, nil
	}
	// Not the request's context: the provider keeps it for fetching its
	// keys later.
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), o.client), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, o.issuer)
	if err != nil {
		return nil, nil, err
	}
	o.config = &oauth2.Config{
		ClientID: o.clientID, ClientSecret: o.clientSecret, RedirectURL: o.redirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	// Token times are checked by the wall clock, as the provider's are
	// written: the gateway's clock (app.Config.Now) is for its own
	// records.
	o.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), o.client), &oidc.Config{ClientID: o.clientID})
	return o.config, o.verifier, nil
}

// startTTL is how long a sign-in started at the provider may take.
const startTTL = 10 * time.Minute

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems.
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// OIDCStart answers GET /admin/oidc/start: the browser goes to the
// provider, with a new state, nonce and PKCE verifier kept in its
// session.
func (c *Console) OIDCStart(ec echo.Context) error {
	if c.OIDC == nil {
		return errs.E(errs.NotFound, "single sign-on is not configured on this gateway")
	}
	ctx := ec.Request().Context()
	u, err := c.current(ec)
	if err != nil {
		return err
	}
	if u != nil {
		return ec.Redirect(http.StatusSeeOther, "/admin")
	}
	cfg, _, err := c.OIDC.discover(ctx)
	if err != nil {
		c.Log.Warn("oidc discovery", "issuer", c.OIDC.issuer, "err", err)
		return c.loginPage(ec, http.StatusBadGateway, "", "The sign-in provider cannot be reached; try again in a moment, or sign in with your password.")
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	c.sm.Put(ctx, keyOIDCState, state)
	c.sm.Put(ctx, keyOIDCNonce, nonce)
	c.sm.Put(ctx, keyOIDCVerifier, verifier)
	c.sm.Put(ctx, keyOIDCStarted, c.Users.Now().Unix())
	if err := c.save(ec); err != nil {
		return err
	}
	return ec.Redirect(http.StatusFound, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// boolish reads a claim that some providers send as a string ("true").
type boolish bool

func (b *boolish) UnmarshalJSON(d []byte) error {
	s := strings.Trim(string(d), `"`)
	*b = boolish(s == "true")
	return nil
}

// OIDCCallback answers GET /admin/oidc/callback: the provider sends the
// browser back with a code, which is exchanged (with the PKCE verifier)
// for an ID token; its signature, issuer, audience, expiry and nonce are
// checked, and the user whose email it verifies is signed in.
func (c *Console) OIDCCallback(ec echo.Context) error {
	if c.OIDC == nil {
		return errs.E(errs.NotFound, "single sign-on is not configured on this gateway")
	}
	ctx := ec.Request().Context()
	source := ec.RealIP()
	if d := c.Failures.Wait(source); d > 0 {
		return c.throttled(ec, "", d)
	}
	// Each is used once: a second callback with the same state fails.
	state := c.sm.PopString(ctx, keyOIDCState)
	nonce := c.sm.PopString(ctx, keyOIDCNonce)
	verifier := c.sm.PopString(ctx, keyOIDCVerifier)
	started, _ := c.sm.Pop(ctx, keyOIDCStarted).(int64)
	q := ec.QueryParams()
	if e := q.Get("error"); e != "" {
		msg := "The sign-in provider did not sign you in (" + web.Cut(e, 64) + ")"
		if d := q.Get("error_description"); d != "" {
			msg += ": " + web.Cut(d, 200)
		}
		return c.loginPage(ec, http.StatusUnauthorized, "", msg+".")
	}
	if state == "" || q.Get("state") != state || time.Unix(started, 0).Add(startTTL).Before(c.Users.Now()) {
		return c.loginPage(ec, http.StatusBadRequest, "", "This sign-in was not started here, or took too long: press Sign in with SSO again.")
	}
	cfg, idv, err := c.OIDC.discover(ctx)
	if err != nil {
		c.Log.Warn("oidc discovery", "issuer", c.OIDC.issuer, "err", err)
		return c.loginPage(ec, http.StatusBadGateway, "", "The sign-in provider cannot be reached; try again in a moment, or sign in with your password.")
	}
	si := access.SignIn{Method: access.MethodOIDC, Source: source}
	tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.OIDC.client), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		c.Failures.Fail(source)
		c.Log.Warn("oidc code exchange", "issuer", c.OIDC.issuer, "err", web.Cut(err.Error(), 300))
		return c.loginPage(ec, http.StatusUnauthorized, "", "The sign-in provider did not confirm this sign-in: press Sign in with SSO again.")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := idv.Verify(ctx, raw)
	if err == nil && idt.Nonce != nonce {
		err = errors.New("the nonce is not the one sent")
	}
	if err != nil {
		c.Failures.Fail(source)
		c.Log.Warn("oidc id token refused", "issuer", c.OIDC.issuer, "err", web.Cut(err.Error(), 300))
		if err := c.Users.SignInFailed(ctx, nil, "", "invalid ID token", si); err != nil {
			return err
		}
		return c.loginPage(ec, http.StatusUnauthorized, "", "The sign-in provider's answer could not be verified: press Sign in with SSO again.")
	}
	var claims struct {
		Email         string  `json:"email"`
		EmailVerified boolish `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return err
	}
	email, err := access.NormalEmail(claims.Email)
	if err != nil {
		if err := c.Users.SignInFailed(ctx, nil, "", "no email", si); err != nil {
			return err
		}
		return c.loginPage(ec, http.StatusForbidden, "", "The sign-in provider gave no email address: ask your organization's admin to have it send one.")
	}
	si.Subject = idt.Issuer + " " + idt.Subject
	u, err := c.Users.ByEmail(ctx, email)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	refuse := func(status int, reason, msg string) error {
		if err := c.Users.SignInFailed(ctx, u, email, reason, si); err != nil {
			return err
		}
		return c.loginPage(ec, status, email, msg)
	}
	switch {
	case !bool(claims.EmailVerified):
		return refuse(http.StatusForbidden, "email not verified", "Your sign-in provider has not verified the email "+email+": verify it there, then sign in again.")
	case u == nil:
		return refuse(http.StatusForbidden, "no invitation", msgNoInvite)
	case u.Disabled:
		return refuse(http.StatusForbidden, "disabled", msgDisabled)
	}
	err = c.signIn(ec, u, si)
	if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Conflict) {
		return refuse(http.StatusForbidden, errs.MessageOf(err), "This sign-in is refused: "+errs.MessageOf(err)+". Ask your organization's admin.")
	}
	return err
}
