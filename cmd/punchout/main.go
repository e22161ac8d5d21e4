// Command punchout is the cXML punchout gateway. main only calls run;
// run parses the command line (flags, each with an environment variable)
// and starts the subcommand.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/alecthomas/kong"

	"github.com/cxmlgate/punchout/catalog"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/exchange"
	"github.com/cxmlgate/punchout/internal/jobs"
	"github.com/cxmlgate/punchout/internal/mail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "punchout:", err)
		os.Exit(1)
	}
}

// DBFlag is the --db flag every subcommand that touches the database takes.
type DBFlag struct {
	DB string `name:"db" env:"PUNCHOUT_DB" default:"sqlite:punchout.db" help:"Database: sqlite:PATH (default) or a postgres:// URL."`
}

// open opens the database of a subcommand that uses one set up before
// (every one but serve and migrate): one that does not exist or has no
// gateway tables is refused, and nothing is created (db.OpenExisting).
func (f DBFlag) open(ctx context.Context) (*db.DB, error) {
	return db.OpenExisting(ctx, f.DB)
}

// KeyFlags locate the server key that protects stored secrets.
type KeyFlags struct {
	SecretKey string `name:"secret-key" env:"PUNCHOUT_SECRET_KEY" help:"Server key (32 bytes, base64 or hex) protecting stored secrets. Default: read or create --key-file."`
	KeyFile   string `name:"key-file" env:"PUNCHOUT_KEY_FILE" default:"punchout.key" help:"File holding the server key when --secret-key is not set; created with a new key if missing."`
}

type globals struct {
	LogLevel  string `name:"log-level" env:"PUNCHOUT_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
	LogFormat string `name:"log-format" env:"PUNCHOUT_LOG_FORMAT" default:"json" enum:"json,text" help:"Log format."`

	stdout, stderr io.Writer
}

func (g *globals) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if g.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(g.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(g.stderr, opts))
}

type cli struct {
	globals

	Serve   serveCmd   `cmd:"" help:"Run the HTTP server (migrates the database first)."`
	Migrate migrateCmd `cmd:"" help:"Create the database if needed, apply pending migrations and exit."`
	Catalog catalogCmd `cmd:"" help:"Manage the catalog of a database set up by serve or migrate."`
	Bill    billCmd    `cmd:"" help:"Run billing up to and including a day (idempotent), on a database set up by serve or migrate."`
}

type billCmd struct {
	DBFlag
	KeyFlags
	Through string `name:"through" required:"" help:"Last day to bill, YYYY-MM-DD."`
	BaseURL string `name:"base-url" env:"PUNCHOUT_BASE_URL" default:"http://127.0.0.1:8080" help:"Public URL of the gateway; its host names the payloadIDs of cXML invoices."`
}

func (b *billCmd) Run(ctx context.Context, g *globals) error {
	through, err := time.Parse(time.DateOnly, b.Through)
	if err != nil {
		return fmt.Errorf("--through %q: must be a date YYYY-MM-DD", b.Through)
	}
	// The composition root, without the HTTP server: billing needs the
	// connections (and the server key) to write cXML invoices.
	a, err := app.New(ctx, app.Config{DB: b.DB, ExistingDB: true, BaseURL: b.BaseURL, SecretKey: b.SecretKey, KeyFile: b.KeyFile, NoWorkers: true}, g.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	billing := a.Billing
	// A progress bar on a terminal; nothing when output is redirected.
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		stage := ""
		billing.Progress = func(s string, done, total int) {
			if s != stage || bar == nil {
				if bar != nil {
					_ = bar.Finish()
				}
				stage = s
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(s),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set(done)
		}
	}
	res, err := billing.Run(ctx, through)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "billed through %s: %d out-of-cycle invoices, %d monthly invoices, %d notifications\n",
		res.Through, res.OutOfCycle, res.Monthly, res.Notifications)
	return nil
}

type catalogCmd struct {
	Import catalogImportCmd `cmd:"" help:"Load products and offers from a JSON catalog file (idempotent)."`
}

type catalogImportCmd struct {
	DBFlag
	File string `arg:"" type:"existingfile" help:"Catalog file: {\"products\": [...], \"offers\": [...]}."`
}

func (c *catalogImportCmd) Run(ctx context.Context, g *globals) error {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	var f catalog.File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := catalog.NewStore(d, time.Now).Import(ctx, &f)
	if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	fmt.Fprintf(g.stdout, "imported %s: %d products created, %d updated; %d offers created, %d revised, %d unchanged\n",
		c.File, res.ProductsCreated, res.ProductsUpdated, res.OffersCreated, res.OffersRevised, res.OffersUnchanged)
	return nil
}

type serveCmd struct {
	DBFlag
	KeyFlags
	Addr         string        `name:"addr" env:"PUNCHOUT_ADDR" default:"127.0.0.1:8080" help:"Address to listen on."`
	BaseURL      string        `name:"base-url" env:"PUNCHOUT_BASE_URL" help:"Public URL of the gateway, used in StartPage links. Default: derived from --addr."`
	AdminToken   string        `name:"admin-token" env:"PUNCHOUT_ADMIN_TOKEN" help:"Bootstrap bearer token of the admin API."`
	Demo         bool          `name:"demo" env:"PUNCHOUT_DEMO" help:"Seed the demo organization, connections and catalog (idempotent)."`
	MaxBodyBytes int64         `name:"max-body-bytes" env:"PUNCHOUT_MAX_BODY_BYTES" default:"2097152" help:"Largest cXML document accepted, in bytes."`
	SMTPAddr     string        `name:"smtp-addr" env:"PUNCHOUT_SMTP_ADDR" help:"SMTP server (host:port) for notifications. Without it, mail stays in the outbox (GET /api/v1/outbox)."`
	MailFrom     string        `name:"mail-from" env:"PUNCHOUT_MAIL_FROM" default:"marketplace@localhost" help:"Sender address of notifications."`
	SMTPTLS      string        `name:"smtp-tls" env:"PUNCHOUT_SMTP_TLS" enum:"opportunistic,mandatory,implicit" default:"opportunistic" help:"How mail to the SMTP server is secured: opportunistic (STARTTLS when offered), mandatory (STARTTLS or nothing is sent), implicit (TLS from the start, port 465)."`
	SMTPUsername string        `name:"smtp-username" env:"PUNCHOUT_SMTP_USERNAME" help:"User name for SMTP AUTH; without it, mail is sent unauthenticated."`
	SMTPPassword string        `name:"smtp-password" env:"PUNCHOUT_SMTP_PASSWORD" help:"Password for SMTP AUTH (prefer the environment variable to the flag)."`
	JobRescue    time.Duration `name:"job-rescue-after" env:"PUNCHOUT_JOB_RESCUE_AFTER" default:"10m" help:"How long a background job (an invoice delivery, a mail) may run before it is taken for one whose process died and run again; after a crash, a delivery in flight is retried once this has passed."`

	ExchangeRetention time.Duration `name:"exchange-retention" env:"PUNCHOUT_EXCHANGE_RETENTION" default:"2160h" help:"How long the exchange log keeps the documents of authenticated connections (2160h is 90 days)."`
	RefusalRetention  time.Duration `name:"refusal-retention" env:"PUNCHOUT_REFUSAL_RETENTION" default:"72h" help:"How long the exchange log keeps documents refused before their sender authenticated."`
	MaxParsing        int           `name:"max-concurrent-cxml" env:"PUNCHOUT_MAX_CONCURRENT_CXML" default:"16" help:"cXML documents parsed and answered at once; beyond it, a document is answered 503 (retry later) at once."`
	AuthFailureRate   float64       `name:"auth-failure-rate" env:"PUNCHOUT_AUTH_FAILURE_RATE" default:"1" help:"Failed authentications (cXML or admin token) allowed per second per source address, once --auth-failure-burst is used up; then 429."`
	AuthFailureBurst  int           `name:"auth-failure-burst" env:"PUNCHOUT_AUTH_FAILURE_BURST" default:"20" help:"Failed authentications a source address may make in a row before it is throttled."`
	SessionIdle       time.Duration `name:"session-idle-timeout" env:"PUNCHOUT_SESSION_IDLE_TIMEOUT" default:"2h" help:"A console session ends after this long without a request (and 12h after sign-in in any case)."`
	OIDCIssuer        string        `name:"oidc-issuer" env:"PUNCHOUT_OIDC_ISSUER" help:"OpenID Connect provider (issuer URL) for single sign-on to the console; with --oidc-client-id and --oidc-client-secret. Its redirect URL is {base-url}/admin/oidc/callback."`
	OIDCClientID      string        `name:"oidc-client-id" env:"PUNCHOUT_OIDC_CLIENT_ID" help:"Client ID of the gateway at the OpenID Connect provider."`
	OIDCClientSecret  string        `name:"oidc-client-secret" env:"PUNCHOUT_OIDC_CLIENT_SECRET" help:"Client secret of the gateway at the OpenID Connect provider (prefer the environment variable to the flag)."`
	TrustedProxies    string        `name:"trusted-proxies" env:"PUNCHOUT_TRUSTED_PROXIES" help:"Comma-separated addresses or CIDR networks of proxies whose X-Forwarded-For is believed. Default: none; the client address is the socket's."`
}

func (s *serveCmd) Run(ctx context.Context, g *globals) error {
	log := g.logger()
	a, err := app.New(ctx, app.Config{
		Addr: s.Addr, DB: s.DB, BaseURL: s.BaseURL, AdminToken: s.AdminToken, Demo: s.Demo,
		SecretKey: s.SecretKey, KeyFile: s.KeyFile, MaxBodyBytes: s.MaxBodyBytes,
		SMTPAddr: s.SMTPAddr, MailFrom: s.MailFrom, SMTPTLS: mail.TLS(s.SMTPTLS), SMTPUsername: s.SMTPUsername, SMTPPassword: s.SMTPPassword,
		JobRescueAfter:     s.JobRescue,
		Retention:          exchange.Retention{Kept: s.ExchangeRetention, Refusals: s.RefusalRetention},
		MaxParsing:         s.MaxParsing,
		AuthFailure:        app.AuthFailureLimit{Rate: s.AuthFailureRate, Burst: s.AuthFailureBurst},
		TrustedProxies:     s.TrustedProxies,
		SessionIdleTimeout: s.SessionIdle,
		OIDCIssuer:         s.OIDCIssuer, OIDCClientID: s.OIDCClientID, OIDCClientSecret: s.OIDCClientSecret,
	}, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx)
}

type migrateCmd struct {
	DBFlag
}

// Run creates the database when it does not exist, and applies what
// serve would: the gateway's migrations and the job queue's.
func (m *migrateCmd) Run(ctx context.Context, g *globals) error {
	d, err := db.Open(ctx, m.DB)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, d, g.logger()); err != nil {
		d.Close()
		return err
	}
	fmt.Fprintln(g.stdout, "database is up to date")
	return d.Close()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c cli
	c.stdout, c.stderr = stdout, stderr
	parser, err := kong.New(&c,
		kong.Name("punchout"),
		kong.Description("cXML punchout gateway: Coupa and SAP Ariba punchout, orders and invoices."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(&c.globals),
	)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return err
	}
	return kctx.Run()
}
