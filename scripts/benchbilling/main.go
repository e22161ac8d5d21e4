// Command benchbilling measures a billing run over a synthetic month:
// by default 10,000 organizations, 100,000 agreements (half upfront
// contracts, half pay-as-you-go), 1,000,000 usage records and 20,000
// purchase orders with blanket usage line items, on SQLite. It reports
// the run's time, peak heap and invoices per second, and the ratio to
// inserting the same number of invoice rows directly, measured in the same
// run. With -scale it runs the month again with fewer usage records, so
// that peak memory at the two sizes shows whether it grows with the number
// of records (it must not: usage is read as a stream).
//
// Usage: go run ./scripts/benchbilling [-orgs N] [-agreements N] [-usage N] [-pos N] [-scale F]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"github.com/cxmlgate/punchout/internal/app"
)

type size struct{ orgs, agreements, usage, pos int }

func main() {
	var s size
	flag.IntVar(&s.orgs, "orgs", 10000, "organizations")
	flag.IntVar(&s.agreements, "agreements", 100000, "agreements (half upfront, half pay-as-you-go)")
	flag.IntVar(&s.usage, "usage", 1000000, "usage records")
	flag.IntVar(&s.pos, "pos", 20000, "purchase orders")
	scale := flag.Float64("scale", 0.25, "also run a month this much smaller, to compare peak memory (0 to skip)")
	maxSeconds := flag.Float64("max-seconds", 60, "target for the run's time")
	flag.Parse()
	full, err := measure(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchbilling:", err)
		os.Exit(1)
	}
	report("full month", s, full)
	ok := full.run.Seconds() <= *maxSeconds
	fmt.Printf("  target: run under %.0f s: %s\n", *maxSeconds, verdict(ok))
	if *scale > 0 {
		// Only the usage records shrink: memory must not follow them.
		small := size{s.orgs, s.agreements, int(float64(s.usage) * *scale), s.pos}
		sm, err := measure(small)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchbilling:", err)
			os.Exit(1)
		}
		report("same month, fewer usage records", small, sm)
		growth := float64(full.peakHeap) / float64(max(sm.peakHeap, 1))
		records := float64(s.usage) / float64(max(small.usage, 1))
		flat := growth < records/2
		fmt.Printf("\npeak heap grows %.2fx for %.0fx the usage records (flat: %s)\n", growth, records, verdict(flat))
		ok = ok && flat
	}
	if !ok {
		os.Exit(1)
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

type result struct {
	run, baseline time.Duration
	invoices      int
	peakHeap      uint64
	setup         time.Duration
}

func report(name string, s size, r result) {
	fmt.Printf("\n%s: %d organizations, %d agreements, %d usage records, %d POs (setup %s)\n", name, s.orgs, s.agreements, s.usage, s.pos, r.setup.Round(time.Millisecond))
	fmt.Printf("  billing run        %10s  %8d invoices  %8.0f invoices/s  peak heap %6.1f MiB\n",
		r.run.Round(time.Millisecond), r.invoices, float64(r.invoices)/r.run.Seconds(), float64(r.peakHeap)/(1<<20))
	fmt.Printf("  baseline (insert)  %10s  %8d rows      %8.0f rows/s\n", r.baseline.Round(time.Millisecond), r.invoices, float64(r.invoices)/r.baseline.Seconds())
	fmt.Printf("  ratio run/baseline %.2fx\n", r.run.Seconds()/r.baseline.Seconds())
}

func measure(s size) (result, error) {
	var r result
	dir, err := os.MkdirTemp("", "benchbilling")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DB: "sqlite:" + filepath.Join(dir, "bench.db"),
		KeyFile: filepath.Join(dir, "key"), Demo: true, NoWorkers: true}, log)
	if err != nil {
		return r, err
	}
	defer a.Close()
	t0 := time.Now()
	if err := generate(ctx, a, s); err != nil {
		return r, fmt.Errorf("generate: %w", err)
	}
	r.setup = time.Since(t0)

	// Sample the heap while the run goes.
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t1 := time.Now()
	res, err := a.Billing.Run(ctx, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	r.run = time.Since(t1)
	close(stop)
	if err != nil {
		return r, err
	}
	r.peakHeap = peak.Load()
	r.invoices = res.OutOfCycle + res.Monthly

	// Baseline: the same number of invoice rows, inserted directly.
	t2 := time.Now()
	err = a.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		return bulk(ctx, tx, "INSERT INTO invoices (id, organization_id, kind, bill_key, billing_period, period_start, period_end, invoice_date, total, currency, delivery_status, created_at) VALUES ",
			12, r.invoices, func(i int) []any {
				return []any{fmt.Sprintf("base_%d", i), fmt.Sprintf("org_%d", i%s.orgs), "monthly", fmt.Sprintf("base:%d", i), "2026-11",
					"2026-11-01", "2026-11-30", "2026-12-01", "10.00", "USD", "not_applicable", time.Now().UTC()}
			})
	})
	r.baseline = time.Since(t2)
	return r, err
}

// bulk inserts n rows, 500 per statement.
func bulk(ctx context.Context, tx *sqlx.Tx, prefix string, cols, n int, row func(i int) []any) error {
	const per = 500
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var sb strings.Builder
		sb.WriteString(prefix)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString(tuple)
			args = append(args, row(i)...)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// generate writes the synthetic month: organizations, an order each,
// agreements alternating between an upfront contract due in November and
// a pay-as-you-go offer, their charges, POs with blanket usage line items,
// and October usage records spread over the pay-as-you-go agreements.
func generate(ctx context.Context, a *app.App, s size) error {
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	return a.DB.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := bulk(ctx, tx, "INSERT INTO organizations (id, name, po_mode, created_at) VALUES ", 4, s.orgs, func(i int) []any {
			return []any{fmt.Sprintf("org_%d", i), fmt.Sprintf("Org %d", i), "procurement_system", now}
		}); err != nil {
			return err
		}
		if err := bulk(ctx, tx, `INSERT INTO orders (id, organization_id, connection_id, order_id, po_number, type, source, payload_id, revises, order_date, created_at) VALUES `,
			11, s.orgs, func(i int) []any {
				return []any{fmt.Sprintf("ord_%d", i), fmt.Sprintf("org_%d", i), nil, fmt.Sprintf("PO-%d", i), fmt.Sprintf("PO-%d", i), "new", "checkout", "", nil, start, now}
			}); err != nil {
			return err
		}
		if err := bulk(ctx, tx, `INSERT INTO agreements (id, organization_id, connection_id, order_ref, order_id, line_number, offer_id, offer_revision,
			product_id, pricing_model, currency, start_date, end_date, total_contract_value, po_number, usage_po_number, status, subscriber_email,
			subscriber_name, created_at, updated_at, cancelled_at) VALUES `, 22, s.agreements, func(i int) []any {
			org := i % s.orgs
			offer, product, model, tcv, end := "offer-cloudsight-annual-contract", "prod-cloudsight", "upfront", "24000.00", "2027-11-01"
			if i%2 == 1 {
				offer, model, tcv, end = "offer-cloudsight-payg", "payg", "", ""
			}
			return []any{fmt.Sprintf("agr_%d", i), fmt.Sprintf("org_%d", org), nil, fmt.Sprintf("ord_%d", org), fmt.Sprintf("PO-%d", org), i/s.orgs + 1,
				offer, 1, product, model, "USD", start.Format(time.DateOnly), end, tcv, fmt.Sprintf("PO-%d", org), "", "active", "", "", now, now, nil}
		}); err != nil {
			return err
		}
		// Charges: one upfront charge per contract, two usage dimensions per
		// pay-as-you-go agreement.
		type ch struct {
			agreement            string
			seq                  int
			kind, fee, due, amt  string
			dim, unit, unitPrice string
		}
		var charges []ch
		for i := range s.agreements {
			id := fmt.Sprintf("agr_%d", i)
			if i%2 == 0 {
				charges = append(charges, ch{id, 1, "upfront", "fixed", start.Format(time.DateOnly), "24000.00", "", "", ""})
			} else {
				charges = append(charges, ch{id, 1, "usage", "usage", "", "", "hosts", "host-hour", "0.012"},
					ch{id, 2, "usage", "usage", "", "", "ingest", "GB", "0.10"})
			}
		}
		if err := bulk(ctx, tx, `INSERT INTO charges (id, agreement_id, sequence, kind, fee, due_date, amount, currency, dimension, unit, unit_price, status, invoice_id, created_at) VALUES `,
			14, len(charges), func(i int) []any {
				c := charges[i]
				return []any{fmt.Sprintf("chg_%d", i), c.agreement, c.seq, c.kind, c.fee, c.due, c.amt, "USD", c.dim, c.unit, c.unitPrice, "scheduled", nil, now}
			}); err != nil {
			return err
		}
		if err := bulk(ctx, tx, `INSERT INTO purchase_orders (organization_id, po_number, bill_from, effective_month, expiration_month, admin_status, created_by, created_at, updated_at) VALUES `,
			9, s.pos, func(i int) []any {
				return []any{fmt.Sprintf("org_%d", i%s.orgs), fmt.Sprintf("BLANKET-%d", i), "", "2026-01", "2027-12", "active", "admin", now, now}
			}); err != nil {
			return err
		}
		if err := bulk(ctx, tx, `INSERT INTO po_line_items (id, organization_id, po_number, type, start_month, end_month, amount, balance, currency, agreement_id, note, created_at) VALUES `,
			12, s.pos, func(i int) []any {
				return []any{fmt.Sprintf("poli_%d", i), fmt.Sprintf("org_%d", i%s.orgs), fmt.Sprintf("BLANKET-%d", i), "marketplace_blanket_usage",
					"2026-01", "2027-12", "", "", "", nil, "", now}
			}); err != nil {
			return err
		}
		payg := max(1, s.agreements/2)
		oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		return bulk(ctx, tx, `INSERT INTO usage_records (id, agreement_id, dimension, quantity, recorded_at, month, created_at) VALUES `,
			7, s.usage, func(i int) []any {
				agr := (i%payg)*2 + 1
				dim := "hosts"
				if i%3 == 0 {
					dim = "ingest"
				}
				q := decimal.NewFromInt(int64(i%97 + 1)).Div(decimal.NewFromInt(4))
				return []any{fmt.Sprintf("u_%d", i), fmt.Sprintf("agr_%d", agr), dim, q.String(), oct.Add(time.Duration(i%(30*24)) * time.Hour), "2026-10", now}
			})
	})
}
