// Command benchratio reads `go test -bench` output and prints each result
// as a ratio to a baseline measured in the same round, with the target it
// is held to. Targets are information: a missed one is reported, and the
// exit status does not depend on it. It exits non-zero when a benchmark
// failed (a "--- FAIL" or a panic in the output) or when the output holds
// no results, or a package's run none, so that `make bench` fails on a
// broken benchmark and only on one.
//
// Usage: benchratio FILE...
//
// `make bench` runs every benchmark once per round, and a benchmark and
// its baseline one after the other within a round, so that drift on the
// machine hits both alike; it writes a "round: N" line before each round.
// A ratio is taken per round, from the two samples of that round, and the
// figure printed is the median over the rounds, which one noisy round
// cannot move. Without round lines (a plain `go test -bench -count N`),
// the kth sample of a benchmark is paired with the kth of its baseline.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A rule pairs a benchmark with its baseline. For "time" rules the ratio
// is ns/op over the baseline's ns/op (lower is better) and maxRatio is its
// target. For "rate" rules ns/op is the inverse of throughput (the
// benchmark runs in parallel); the ratio is the rate over the baseline's
// rate and minRate / minRatio are the targets.
type rule struct {
	group    string
	name     string
	baseline string
	kind     string
	maxRatio float64
	minRatio float64
	minRate  float64
}

var kinds = []string{"ProfileRequest", "PunchOutSetupRequest", "PunchOutOrderMessage", "OrderRequest", "ConfirmationRequest", "InvoiceDetailRequest"}

func rules() []rule {
	var rs []rule
	for _, k := range kinds {
		r := rule{group: "cxml parse (ours / bare etree parse of the same bytes)", name: "Parse/" + k + "/ours", baseline: "Parse/" + k + "/etree", kind: "time"}
		if k == "OrderRequest" {
			r.maxRatio = 1.25
		}
		rs = append(rs, r)
	}
	for _, k := range kinds {
		rs = append(rs, rule{group: "cxml write (ours / bare etree write of the same tree)", name: "Marshal/" + k + "/ours", baseline: "Marshal/" + k + "/etree", kind: "time"})
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		// The 2,000 requests per second target is the embedded default's
		// (SQLite) on this 2-core machine; PostgreSQL is reported.
		minRate := 2000.0
		if engine == "postgres" {
			minRate = 0
		}
		e := "CXMLEndpoint/" + engine + "/"
		g := "/cxml in-process throughput (ours / Echo handler returning a fixed answer)"
		rs = append(rs,
			rule{group: g, name: e + "ProfileRequest", baseline: e + "EchoBaseline", kind: "rate", minRate: minRate},
			rule{group: g, name: e + "PunchOutSetupRequest", baseline: e + "ProfileRequest", kind: "rate", minRatio: 0.7},
			// The orders issue's 0.5x target is withdrawn: it lies below
			// what writing an order's own rows allows on SQLite (the floor
			// below). The ratio is still printed, as a guard.
			rule{group: g, name: e + "OrderRequest5Lines", baseline: e + "ProfileRequest", kind: "rate"},
		)
	}
	// The floor under the order: its 18 rows written directly,
	// with no request around them, against the ProfileRequest, and the
	// order through /cxml against that floor.
	for _, engine := range []string{"sqlite", "postgres"} {
		e := "CXMLEndpoint/" + engine + "/"
		g := "order floor (an order's rows inserted directly / ProfileRequest; the order / its rows inserted directly)"
		rs = append(rs,
			rule{group: g, name: e + "OrderRows5LinesDirect", baseline: e + "ProfileRequest", kind: "rate"},
			rule{group: g, name: e + "OrderRequest5Lines", baseline: e + "OrderRows5LinesDirect", kind: "rate"},
		)
	}
	return rs
}

var (
	lineRe  = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)
	roundRe = regexp.MustCompile(`^round:\s*(\S+)`)
	pkgRe   = regexp.MustCompile(`^pkg:\s*(\S+)`)
	// Not anchored: a failed benchmark's line starts with its name.
	failRe = regexp.MustCompile(`--- FAIL: (\S+?)(-\d+)?(\s|$)`)
)

// A sample is one result of a benchmark, with the round it belongs to.
type sample struct {
	round string
	ns    float64
}

// input is what the files hold.
type input struct {
	samples  map[string][]sample
	failures []string // what failed, as the output says it
	results  int
	// Per package run (a "pkg:" line in a round), how many results it
	// printed, in the order of the runs.
	runs []pkgRun
}

type pkgRun struct {
	round, pkg string
	results    int
}

func read(files []string) (*input, error) {
	in := &input{samples: map[string][]sample{}}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		round := ""
		seen := map[string]int{} // samples of a name in this round
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			switch m := lineRe.FindStringSubmatch(line); {
			case m != nil:
				v, _ := strconv.ParseFloat(m[3], 64)
				key := round + "#" + strconv.Itoa(seen[m[1]])
				seen[m[1]]++
				in.samples[m[1]] = append(in.samples[m[1]], sample{key, v})
				in.results++
				if len(in.runs) > 0 {
					in.runs[len(in.runs)-1].results++
				}
			case roundRe.MatchString(line):
				round = roundRe.FindStringSubmatch(line)[1]
				clear(seen)
			case pkgRe.MatchString(line):
				// `make bench` names the package before it runs it, and
				// the test binary does again when it starts.
				pkg := pkgRe.FindStringSubmatch(line)[1]
				if n := len(in.runs); n == 0 || in.runs[n-1] != (pkgRun{round: round, pkg: pkg}) {
					in.runs = append(in.runs, pkgRun{round: round, pkg: pkg})
				}
			case failRe.MatchString(line):
				// A failed sub-benchmark fails its parents after it: name
				// the sub-benchmark only.
				f := where(round) + failRe.FindStringSubmatch(line)[1]
				if n := len(in.failures); n == 0 || !strings.HasPrefix(in.failures[n-1], f+"/") {
					in.failures = append(in.failures, f)
				}
			case strings.HasPrefix(line, "panic: "):
				in.failures = append(in.failures, where(round)+line)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return in, nil
}

func where(round string) string {
	if round == "" {
		return ""
	}
	return "round " + round + ": "
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchratio FILE...")
		os.Exit(2)
	}
	in, err := read(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	missed := report(in)

	// The exit status is about the benchmarks, never about a target.
	broken := false
	if len(in.failures) > 0 {
		broken = true
		fmt.Println("\nbenchmarks that failed (their samples are left out above):")
		for _, f := range in.failures {
			fmt.Println("  " + f)
		}
	}
	for _, r := range in.runs {
		if r.results == 0 {
			broken = true
			fmt.Printf("\n%s%s printed no benchmark results\n", where(r.round), r.pkg)
		}
	}
	if in.results == 0 {
		broken = true
		fmt.Println("\nno benchmark results in", strings.Join(os.Args[1:], " "))
	}
	if missed > 0 {
		fmt.Printf("\n%d figure(s) short of their target: reported, not enforced (targets do not set the exit status)\n", missed)
	}
	if broken {
		fmt.Println("FAIL: a benchmark is broken")
		os.Exit(1)
	}
}

// report prints each rule's ratio and returns how many targets were
// missed.
func report(in *input) int {
	missed := 0
	group := ""
	for _, r := range rules() {
		got, base := in.samples[r.name], in.samples[r.baseline]
		// The ratio of each round with a sample of both.
		byRound := map[string]float64{}
		for _, s := range base {
			byRound[s.round] = s.ns
		}
		var ratios, gots, bases []float64
		for _, s := range got {
			b, ok := byRound[s.round]
			if !ok {
				continue
			}
			gots, bases = append(gots, s.ns), append(bases, b)
			if r.kind == "time" {
				ratios = append(ratios, s.ns/b)
			} else {
				ratios = append(ratios, b/s.ns) // rate over the baseline's rate
			}
		}
		if len(ratios) == 0 {
			continue
		}
		if r.group != group {
			group = r.group
			fmt.Println("\n" + group)
		}
		ratio, lo, hi := median(ratios), slices.Min(ratios), slices.Max(ratios)
		g, b := median(gots), median(bases)
		var line string
		var targets []string
		check := func(s string, ok bool, miss string) {
			if ok {
				targets = append(targets, s+": met")
			} else {
				targets = append(targets, s+": "+miss)
				missed++
			}
		}
		switch r.kind {
		case "time":
			line = fmt.Sprintf("  %-42s %10s  baseline %10s  ratio %5.2fx (%.2f–%.2f, %d rounds)", r.name, dur(g), dur(b), ratio, lo, hi, len(ratios))
			if r.maxRatio > 0 {
				check(fmt.Sprintf("target <= %.2fx", r.maxRatio), ratio <= r.maxRatio, "ABOVE TARGET")
			}
		case "rate":
			rate, brate := 1e9/g, 1e9/b
			line = fmt.Sprintf("  %-42s %8.0f/s  baseline %8.0f/s  ratio %5.3fx (%.3f–%.3f, %d rounds)", r.name, rate, brate, ratio, lo, hi, len(ratios))
			if r.minRate > 0 {
				check(fmt.Sprintf("target >= %.0f/s", r.minRate), rate >= r.minRate, "BELOW TARGET")
			}
			if r.minRatio > 0 {
				check(fmt.Sprintf("target >= %.2fx %s", r.minRatio, strings.TrimPrefix(r.baseline, r.name[:strings.LastIndex(r.name, "/")+1])), ratio >= r.minRatio, "BELOW TARGET")
			}
		}
		if len(targets) > 0 {
			line += "  " + strings.Join(targets, ", ")
		}
		fmt.Println(line)
	}
	return missed
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}
