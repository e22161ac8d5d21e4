// Command screenshots writes a PNG of every console page, with the demo
// data, at 1280 and 390 pixels wide, for a reviewer to look at: it starts
// the gateway in-process on a fresh SQLite database, signs in as the demo
// admin in a headless Chromium and visits each page.
//
//	go run ./scripts/screenshots -out screenshots
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/app"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/invoicing"
)

func main() {
	out := flag.String("out", "screenshots", "folder the PNGs are written to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "punchout-screenshots")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := app.New(ctx, app.Config{
		Addr: ln.Addr().String(), DB: "sqlite:" + filepath.Join(tmp, "p.db"), BaseURL: base, Demo: true,
		SecretKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := seed(ctx, a); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	go func() { _ = a.ServeListener(ctx, ln) }()

	bctx, cancel := browser()
	defer cancel()
	shot := func(name string) error {
		for _, w := range []int64{1280, 390} {
			if err := chromedp.Do(bctx, chromedp.EmulateViewport(w, 900)); err != nil {
				return err
			}
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
			if err != nil {
				return err
			}
			file := filepath.Join(out, fmt.Sprintf("%s-%d.png", name, w))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				return err
			}
			fmt.Println(file)
		}
		return nil
	}
	visit := func(name, path string) error {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return shot(name)
	}
	if err := visit("login", "/admin/login"); err != nil {
		return err
	}
	if err := chromedp.Do(bctx,
		chromedp.SetValue(chromedp.CSS("#email"), app.DemoAdminEmail),
		chromedp.SetValue(chromedp.CSS("#password"), app.DemoAdminPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
	); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	for _, p := range [][2]string{
		{"home", "/admin"},
		{"connections", "/admin/connections"},
		{"connection-coupa", "/admin/connections/" + app.DemoCoupaID},
		{"connection-ariba", "/admin/connections/" + app.DemoAribaID},
		{"connection-new", "/admin/connections/new"},
		{"connection-edit", "/admin/connections/" + app.DemoCoupaID + "/edit"},
		{"invoices", "/admin/invoices"},
		{"invoice-failed", "/admin/invoices/inv_demo_failed"},
		{"not-found", "/admin/connections/conn_nobody"},
	} {
		if err := visit(p[0], p[1]); err != nil {
			return err
		}
	}
	// A connection just created, its secret shown once, then a test.
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/connections/new"),
		chromedp.SetValue(chromedp.CSS("#c-name"), "Acme Coupa (test instance)"),
		chromedp.SetValue(chromedp.CSS("#c-bd"), "NetworkID"),
		chromedp.SetValue(chromedp.CSS("#c-bi"), "AcmeCoupaTest"),
		chromedp.SetValue(chromedp.CSS("#c-sd"), "DUNS"),
		chromedp.SetValue(chromedp.CSS("#c-si"), "081254817"),
		chromedp.Submit(chromedp.CSS("#c-name")),
		chromedp.WaitVisible(chromedp.CSS("#setup")),
	); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if err := shot("connection-created"); err != nil {
		return err
	}
	if err := chromedp.Do(bctx, chromedp.Submit(chromedp.CSS("#test-secret")), chromedp.WaitVisible(chromedp.CSS("#test [role=status]"))); err != nil {
		return fmt.Errorf("test: %w", err)
	}
	return shot("connection-tested")
}

// seed adds what makes the home page say something: a PO that expires
// this month, and a refused document of the demo Coupa connection.
func seed(ctx context.Context, a *app.App) error {
	ctx = access.WithPrincipal(ctx, access.System)
	now := time.Now().UTC()
	po := &invoicing.PurchaseOrder{ID: "PO-4471", OrganizationID: app.DemoOrganizationID, BillFrom: "AWS Inc.",
		EffectiveMonth: now.AddDate(0, -6, 0).Format("2006-01"), ExpirationMonth: now.Format("2006-01"),
		LineItems: []invoicing.LineItem{{Type: "all", StartMonth: now.AddDate(0, -6, 0).Format("2006-01"), EndMonth: now.Format("2006-01"), Amount: money.MustParse("5000.00", "USD"), Currency: "USD"}}}
	if err := a.POs.Create(ctx, po); err != nil {
		return err
	}
	doc, err := os.ReadFile("fixtures/cxml/coupa_punchoutsetuprequest_production_2024.xml")
	if err != nil {
		return err
	}
	i := bytes.Index(doc, []byte("<BrowserFormPost>"))
	j := bytes.Index(doc, []byte("</BrowserFormPost>"))
	if i < 0 || j < 0 {
		return fmt.Errorf("fixture has no BrowserFormPost")
	}
	bad := append(append(append([]byte{}, doc[:i]...), []byte("<BrowserFormPost><URL>https://elsewhere.example/cart</URL>")...), doc[j:]...)
	a.Endpoint.Serve(ctx, bad, nil, "screenshots")
	// An invoice the buyer refused, as the deliverer leaves one (there is
	// no API that makes one without a billing run and a buyer to refuse).
	inv := `<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="inv_demo_failed@gateway"><Header><Sender><Credential domain="DUNS"><Identity>081254817</Identity><SharedSecret>[redacted]</SharedSecret></Credential></Sender></Header></cXML>`
	_, err = a.DB.W.ExecContext(ctx, a.DB.Rebind(`INSERT INTO invoices
		(id, organization_id, connection_id, kind, bill_key, po_number, billing_period, period_start, period_end, invoice_date, total, currency,
		 delivery_status, delivery_attempts, last_error, payload_id, document, created_at)
		VALUES ('inv_demo_failed', ?, ?, 'out_of_cycle', 'screenshots:1', 'PO-4471', ?, ?, ?, ?, '40000.00', 'USD', 'failed', 1,
		 'status 417: Invoice line amount exceeds the PO line', 'inv_demo_failed@gateway', ?, ?)`),
		app.DemoOrganizationID, app.DemoCoupaID, now.Format("2006-01"), now.Format("2006-01-02"), now.Format("2006-01-02"), now.Format("2006-01-02"), []byte(inv), now)
	return err
}

func browser() (context.Context, context.CancelFunc) {
	path := os.Getenv("PUNCHOUT_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	dir, _ := os.MkdirTemp("", "punchout-chromium")
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	bctx, cancelB := chromedp.NewContext(actx)
	tctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	return tctx, func() {
		cancelT()
		cancelB()
		cancelA()
		os.RemoveAll(dir)
	}
}
