// Package app is the gateway's composition root: it opens the database,
// builds every feature's stores and handlers, registers all routes in one
// function and runs the HTTP server. cmd/punchout calls it, and so do the
// end-to-end tests, which start the whole gateway in-process.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	apidoc "github.com/cxmlgate/punchout/api"
	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/cxml"
	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/console"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/jobs"
	"github.com/cxmlgate/punchout/internal/mail"
	"github.com/cxmlgate/punchout/internal/secret"
	"github.com/cxmlgate/punchout/internal/throttle"
	"github.com/cxmlgate/punchout/internal/web"
	"github.com/cxmlgate/punchout/invoicing"
	"github.com/cxmlgate/punchout/organization"
	"github.com/cxmlgate/punchout/punchout"
)

// Config is everything the gateway is configured with. cmd/punchout fills
// it from flags and the environment.
type Config struct {
	Addr string
	DB   string
	// ExistingDB refuses a database that does not exist or lacks the
	// gateway's tables (db.OpenExisting), before anything else is read
	// or created: for every subcommand but serve and migrate.
	ExistingDB bool
	BaseURL    string
	AdminToken string
	Demo       bool
	// SecretKey is the server key (32 bytes, base64 or hex). When empty,
	// KeyFile is read, or created with a new key.
	SecretKey    string
	KeyFile      string
	MaxBodyBytes int64
	// SessionTTL is how long a punchout session stays open (default 4h).
	SessionTTL time.Duration
	// SMTPAddr (host:port) receives the outbox's mail; empty keeps mail
	// in the outbox.
	SMTPAddr string
	MailFrom string
	// SMTPTLS is how the connection to the SMTP server is secured
	// (default opportunistic STARTTLS); SMTPUsername and SMTPPassword,
	// when set, authenticate to it.
	SMTPTLS                    mail.TLS
	SMTPUsername, SMTPPassword string
	// NoWorkers keeps StartWorkers from working the job queue (jobs are
	// still inserted), for a billing process and tests that run jobs
	// themselves.
	NoWorkers bool
	// JobRescueAfter is how long a job may run before it is taken for
	// one whose process died, and run again (default
	// jobs.DefaultRescueAfter): after a crash, an invoice delivery in
	// flight is tried again once this has passed.
	JobRescueAfter time.Duration
	// JobPoll is how often the job queue looks for due jobs (default
	// 1 s).
	JobPoll time.Duration
	// JobRetryPolicy replaces River's backoff, for tests that retry at
	// once.
	JobRetryPolicy river.ClientRetryPolicy
	// Retention is how long the exchange log keeps documents.
	Retention exchange.Retention
	// MaxParsing is how many /cxml documents are parsed at once (default
	// punchout.DefaultMaxParsing).
	MaxParsing int
	// AuthFailure limits failed authentications per source address.
	AuthFailure AuthFailureLimit
	// SessionIdleTimeout ends a console session after this long without
	// a request (default console.DefaultIdleTimeout).
	SessionIdleTimeout time.Duration
	// OIDCIssuer, OIDCClientID and OIDCClientSecret, all three or none,
	// offer single sign-on to the console through an OpenID Connect
	// provider.
	OIDCIssuer, OIDCClientID, OIDCClientSecret string
	// TrustedProxies lists the proxies (addresses or CIDR networks,
	// comma-separated) whose X-Forwarded-For is believed.
	TrustedProxies string
	// Now is the clock of every store and service (time.Now when nil):
	// tests move it instead of sleeping. HTTP timeouts, request
	// durations and the workers' polling keep to the wall clock.
	Now func() time.Time
}

// AuthFailureLimit is the per-source limit of failed authentications:
// Burst in a row, then Rate a second.
type AuthFailureLimit struct {
	Rate  float64
	Burst int
}

// Defaults.
const (
	DefaultAddr = "127.0.0.1:8080"
	DefaultDB   = "sqlite:punchout.db"
)

// App is a running gateway's parts.
type App struct {
	Config  Config
	Log     *slog.Logger
	DB      *db.DB
	Keys    *secret.Keyring
	IDs     *cxml.PayloadIDs
	Metrics *web.Metrics
	Echo    *echo.Echo

	Organizations *organization.Store
	Catalog       *catalog.Store
	POs           *invoicing.PurchaseOrders
	Agreements    *invoicing.Agreements
	Billing       *invoicing.Billing
	Connections   *punchout.Connections
	Sessions      *punchout.Sessions
	Endpoint      *punchout.Endpoint
	Mail          *mail.Outbox
	// Jobs is the job queue: every background job runs on it.
	Jobs *jobs.Queue
	// Deliverer delivers cXML invoices, as the worker of their jobs.
	Deliverer *invoicing.Deliverer
	// Users, Tokens and Guard are who may call the admin API, and the
	// check of each route's policy.
	Users  *access.Users
	Tokens *access.Tokens
	Guard  *access.Guard
	// Failures counts failed authentications per source address, for
	// /cxml and the admin API alike.
	Failures *throttle.Limiter
	// Parsing holds a slot per /cxml document being parsed and answered.
	Parsing chan struct{}
	// Console is the admin console's sign-in, with its sessions in
	// ConsoleSessions; Accounts limits its failed sign-ins per account
	// (Failures, per source address).
	Console         *console.Console
	ConsoleSessions *console.Store
	// ConsolePages are the console's pages past sign-in.
	ConsolePages *console.Pages
	Accounts     *throttle.Accounts
}

// New opens and migrates the database, seeds the demo data when asked,
// and builds the router.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.DB == "" {
		cfg.DB = DefaultDB
	}
	base, err := baseURL(cfg.BaseURL, cfg.Addr)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = base
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	proxies, err := web.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = cxml.DefaultMaxBytes
	}
	open := db.Open
	if cfg.ExistingDB {
		open = db.OpenExisting
	}
	// The database first: a refused one leaves no key file behind.
	d, err := open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	keys, err := loadKeys(cfg, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	u, _ := url.Parse(cfg.BaseURL)
	a := &App{
		Config:   cfg,
		Log:      log,
		DB:       d,
		Keys:     keys,
		IDs:      &cxml.PayloadIDs{Host: u.Hostname()},
		Metrics:  web.NewMetrics(),
		Failures: throttle.New(rate.Limit(cfg.AuthFailure.Rate), cfg.AuthFailure.Burst, 0, cfg.Now),
		Parsing:  punchout.NewParsingSlots(cfg.MaxParsing),
	}
	if err := jobs.Migrate(ctx, d, log); err != nil {
		d.Close()
		return nil, err
	}
	now := cfg.Now
	a.Organizations = organization.NewStore(d, now)
	a.Catalog = catalog.NewStore(d, now)
	a.POs = invoicing.NewPurchaseOrders(d, now)
	a.Agreements = invoicing.NewAgreements(d, a.POs, now)
	a.Connections = punchout.NewConnections(d, keys, now)
	a.Sessions = punchout.NewSessions(d, cfg.SessionTTL, now)
	a.ConsoleSessions = &console.Store{DB: d, Now: now, Idle: cmp.Or(cfg.SessionIdleTimeout, console.DefaultIdleTimeout), Lifetime: console.Lifetime}
	if err := a.newJobs(); err != nil {
		d.Close()
		return nil, err
	}
	a.Mail = &mail.Outbox{Jobs: a.Jobs}
	a.Deliverer.Mail = a.Mail
	a.Deliverer.Outcomes = a.Metrics.InvoiceDeliveries
	a.Metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "punchout_invoices_failed", Help: "cXML invoices whose delivery failed, waiting for a resend.",
	}, func() float64 {
		n, err := a.Billing.FailedInvoices(context.Background())
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
	a.Users = &access.Users{DB: d, Now: now}
	a.Tokens = &access.Tokens{DB: d, Now: now}
	a.Guard = &access.Guard{Tokens: a.Tokens, Failures: a.Failures}
	a.Billing = &invoicing.Billing{DB: d, POs: a.POs, Now: now, IDs: a.IDs, Parties: a.Connections, Jobs: a.Jobs, Mail: a.Mail}
	a.Agreements.Billing = a.Billing
	a.Endpoint = punchout.NewEndpoint(d, a.Connections, a.IDs, cxml.Limits{MaxBytes: cfg.MaxBodyBytes}, cfg.BaseURL+"/cxml", log, now)
	a.Endpoint.Setup = &punchout.Setup{Sessions: a.Sessions, Catalog: a.Catalog, Keys: keys, BaseURL: cfg.BaseURL}
	a.Endpoint.Orders = &punchout.Orders{DB: d, Sessions: a.Sessions, Catalog: a.Catalog, Agreements: a.Agreements, Mail: a.Mail, Keys: keys,
		Jobs: a.Jobs, IDs: a.IDs}
	a.Endpoint.StatusUpdates = &punchout.StatusUpdates{Billing: a.Billing}
	if cfg.Demo {
		if a.Config.AdminToken == "" {
			a.Config.AdminToken = DemoAdminToken
			// The token itself is in README, never in the log.
			log.Warn("no --admin-token given: the demo admin token (see README) is in use; never run --demo in production")
		}
		if err := SeedDemo(ctx, a); err != nil {
			d.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	a.Guard.Bootstrap = a.Config.AdminToken
	if a.Guard.Query, err = apidoc.QueryParameters(); err != nil {
		d.Close()
		return nil, err
	}
	if err := a.newConsole(); err != nil {
		d.Close()
		return nil, err
	}
	a.Echo = web.New(web.Options{Log: log, Metrics: a.Metrics, IDs: a.IDs, TrustedProxies: proxies, Now: cfg.Now})
	a.routes()
	return a, nil
}

func loadKeys(cfg Config, log *slog.Logger) (*secret.Keyring, error) {
	var key []byte
	var err error
	if cfg.SecretKey != "" {
		key, err = secret.ParseKey(cfg.SecretKey)
	} else {
		path := cfg.KeyFile
		if path == "" {
			path = "punchout.key"
		}
		var created bool
		key, created, err = secret.LoadOrCreateKeyFile(path)
		if created {
			log.Warn("created a new server key; keep it with the database, secrets stored under it cannot be read without it", "key_file", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	return secret.NewKeyring(key)
}

func baseURL(base, addr string) (string, error) {
	if base != "" {
		u, err := url.Parse(strings.TrimRight(base, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--base-url %q must be an absolute http(s) URL", base)
		}
		return u.String(), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// newConsole builds the admin console's sign-in.
func (a *App) newConsole() error {
	cfg := a.Config
	sso, err := console.NewOIDC(cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret, cfg.BaseURL, a.Log)
	if err != nil {
		return err
	}
	a.Accounts = throttle.NewAccounts(0, 0, 0, cfg.Now)
	a.Console, err = console.New(console.Config{
		Users: a.Users,
		OrganizationName: func(ctx context.Context, id string) (string, error) {
			o, err := a.Organizations.Get(ctx, id)
			if err != nil {
				return "", err
			}
			return o.Name, nil
		},
		Store: a.ConsoleSessions, BaseURL: cfg.BaseURL,
		Failures: a.Failures, Accounts: a.Accounts, OIDC: sso, Log: a.Log,
	})
	if err != nil {
		return err
	}
	// A signed-in person may call the admin API from the console's own
	// origin, with their own role (console.Console.Principal).
	a.Guard.Sessions = a.Console.Principal
	a.ConsolePages = &console.Pages{
		Console: a.Console, Organizations: a.Organizations, Connections: a.Connections, POs: a.POs,
		Billing: a.Billing, Catalog: a.Catalog, Exchanges: a.DB.R, BaseURL: cfg.BaseURL, Now: cfg.Now,
		// Send a test: answered in-process, as POST /cxml answers it.
		CXML: func(ctx context.Context, body []byte, requestID string) []byte {
			return a.Endpoint.Serve(ctx, body, nil, requestID).Body
		},
	}
	return nil
}

// newJobs builds the job queue with the worker of every kind of job, and
// the periodic jobs.
func (a *App) newJobs() error {
	cfg := a.Config
	w := jobs.NewWorkers()
	a.Deliverer = &invoicing.Deliverer{DB: a.DB, Parties: a.Connections, Log: a.Log, Now: cfg.Now,
		Stale: cmp.Or(cfg.JobRescueAfter, jobs.DefaultRescueAfter)}
	jobs.Register(w, a.Deliverer)
	jobs.Register(w, &invoicing.ConfirmationDeliverer{Deliverer: a.Deliverer})
	jobs.Register(w, &mail.Sender{DB: a.DB, Addr: cfg.SMTPAddr, From: cfg.MailFrom, TLS: cfg.SMTPTLS,
		Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, Log: a.Log, Now: cfg.Now})
	jobs.Register(w, &exchange.Purger{DB: a.DB, Retention: cfg.Retention, Now: cfg.Now, Log: a.Log})
	jobs.Register(w, &console.Purger{Store: a.ConsoleSessions, Log: a.Log})
	q, err := jobs.New(a.DB, w, jobs.Config{
		Log: a.Log, RescueAfter: cfg.JobRescueAfter, Mail: cfg.SMTPAddr != "", Poll: cfg.JobPoll, RetryPolicy: cfg.JobRetryPolicy,
		Periodic: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(purgeEvery),
			func() (river.JobArgs, *river.InsertOpts) { return exchange.PurgeJob{}, nil },
			&river.PeriodicJobOpts{ID: "purge_exchanges", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(purgeEvery),
				func() (river.JobArgs, *river.InsertOpts) { return console.PurgeSessionsJob{}, nil },
				&river.PeriodicJobOpts{ID: "purge_console_sessions", RunOnStart: true})},
	})
	if err != nil {
		return err
	}
	a.Jobs = q
	return nil
}

// StartWorkers works the job queue (invoice delivery, mail, the exchange
// log's retention) until ctx is done; the returned func waits for it to
// stop. Jobs waiting from before the job queue existed
// (jobs_backfill) are inserted first.
func (a *App) StartWorkers(ctx context.Context) (wait func()) {
	if a.Config.NoWorkers {
		return func() {}
	}
	if err := a.backfillJobs(ctx); err != nil {
		a.Log.Error("job queue backfill", "err", err)
	}
	if a.Config.SMTPAddr == "" {
		a.Log.Info("no SMTP server configured: mail stays in the outbox (GET /api/v1/outbox)")
	}
	if err := a.Jobs.Start(ctx); err != nil {
		a.Log.Error("job queue", "err", err)
		return func() {}
	}
	return func() {
		<-ctx.Done()
		// Jobs in progress get a while to finish; one cut off is run
		// again by the next gateway, once its rescue time has passed.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Jobs.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			a.Log.Warn("job queue stop", "err", err)
		}
	}
}

// purgeEvery is how often the exchange log's retention is applied.
const purgeEvery = time.Hour

// PurgeExchanges applies the exchange log's retention once.
func (a *App) PurgeExchanges(ctx context.Context) {
	n, err := exchange.Purge(ctx, a.DB, a.Config.Retention, a.Config.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		a.Log.Error("exchange log retention", "err", err)
	case n > 0:
		a.Log.Info("exchange log retention", "deleted", n)
	}
}

// backfillJobs inserts the jobs of the invoices and mail that were
// waiting when migration 00009 moved them onto the job queue.
func (a *App) backfillJobs(ctx context.Context) error {
	return a.Jobs.Backfill(ctx, a.DB, func(kind, ref string) river.JobArgs {
		if kind == (mail.SendMail{}).Kind() {
			return mail.SendMail{MailID: ref}
		}
		return invoicing.DeliverInvoice{InvoiceID: ref}
	})
}

// Handler is the gateway's HTTP handler.
func (a *App) Handler() http.Handler { return a.Echo }

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Serve listens on the configured address until ctx is done, then shuts
// down gracefully: it stops accepting, waits for requests in flight (up to
// 30 seconds), and returns; the caller then closes the database.
func (a *App) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	return a.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened.
func (a *App) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	a.Log.Info("serving", "addr", ln.Addr().String(), "base_url", a.Config.BaseURL, "db", redactDSN(a.Config.DB))
	wctx, stopWorkers := context.WithCancel(context.Background())
	waitWorkers := a.StartWorkers(wctx)
	defer waitWorkers()
	defer stopWorkers()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// redactDSN hides a PostgreSQL password in logs.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
