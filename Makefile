# The cXML punchout gateway. `make run` serves the demo; `make test` runs
# every test, installing what they need first.

GO       ?= go
PKGS     ?= ./...
# The official cXML DTDs every emitted document is validated against.
CXML_DTD_DIR ?= $(abspath $(CURDIR)/../shared/conformance/dtd)
export CXML_DTD_DIR
# The real-world samples the cxml tests read sit beside the DTDs.
CXML_CONFORMANCE_DIR ?= $(abspath $(CXML_DTD_DIR)/..)
export CXML_CONFORMANCE_DIR
export CGO_ENABLED = 1

# A count, not a duration: a -fuzztime duration can end a clean run with
# "context deadline exceeded" (a race in Go's fuzz coordinator,
# golang/go#75804, unfixed in Go 1.26).
FUZZTIME ?= 150000x
FUZZ_TARGETS = $(shell grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | sed 's/func //')

.PHONY: run test deps lint tidy-check bench bench-smoke bench-billing fuzz fuzz-smoke build screenshots

run:
	$(GO) run ./cmd/punchout serve --demo

build:
	$(GO) build -o bin/punchout ./cmd/punchout

# A PNG of every console page with the demo data, at 1280 and 390 pixels
# wide, in headless Chromium, for a reviewer to look at.
SCREENSHOTS_DIR ?= screenshots
screenshots:
	$(GO) run ./scripts/screenshots -out $(SCREENSHOTS_DIR)

deps:
	./scripts/deps.sh

# The race detector makes a first run compile the standard library, every
# dependency (SQLite's C code too) and each test binary anew, for minutes:
# `make test` says so, lists the packages as they are compiled (the
# standard library as a count) and each package's tests as they are built
# (a run of them with -exec true, which starts none), then runs the tests.
# Only that last step's status counts, and the output ends with go test's
# own ok/FAIL line per package (CI reads them); the lines before it are
# indented, so none of them reads as one.
RACE_DEPS_FMT = {{if and (not .Standard) (ne .Name "main") (not .ForTest)}}{{.ImportPath}}{{end}}

test: deps
	@test -f "$(CXML_DTD_DIR)/cXML.dtd" || { echo "cXML DTDs not found in $(CXML_DTD_DIR); set CXML_DTD_DIR"; exit 1; }
	@echo "make test: compiling with the race detector (a first run compiles the standard library, the dependencies and SQLite's C code: minutes)"
	@$(GO) build -race -v $$($(GO) list -deps -test -f '$(RACE_DEPS_FMT)' $(PKGS)) 2>&1 | awk \
		'/^[^\/ ]*\.[^\/ ]*\// { print "  compiled " $$0; fflush(); next } \
		/^[^\/ .]+(\/[^ ]*)?$$/ { if (++std % 50 == 0) { print "  compiled " std " standard library packages"; fflush() } next } \
		{ print "  " $$0; fflush() }' || true
	@echo "make test: building each package's tests"
	@$(GO) test -race -count=1 -run '^$$' -exec true $(PKGS) 2>&1 | awk \
		'$$1 == "ok" { print "  built " $$2; fflush(); next } $$1 == "?" { next } { print "  " $$0; fflush() }' || true
	@echo "make test: running the tests"
	$(GO) test -race -count=1 $(PKGS)

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

tidy-check:
	$(GO) mod tidy -diff

# Benchmarks are guards, not targets. `make bench` runs every benchmark
# BENCH_ROUNDS times: a round is one run of each package's test binary
# (built once), in which each benchmark runs right next to its baseline,
# so that drift on the machine hits both alike. The output goes to a
# temporary file of its own (kept; its name is printed last), and
# scripts/benchratio prints each figure as a ratio to its baseline in the
# same round, median over the rounds, with its target as information. It
# fails only when a benchmark fails or prints nothing, never on a target.
BENCH_ROUNDS ?= 5
# -benchtime for ./cxml and for ./punchout (/cxml in-process).
BENCHTIME_CXML ?= 1s
BENCHTIME_PUNCHOUT ?= 2s

bench: SHELL := /bin/bash
bench:
	@set -uo pipefail; \
	out=$$(mktemp -t punchout-bench.XXXXXX) && bin=$$(mktemp -d -t punchout-bench-bin.XXXXXX) || exit 1; \
	trap 'rm -rf "$$bin"' EXIT; \
	$(GO) test -c -o "$$bin/" ./cxml ./punchout || exit 1; \
	module=$$($(GO) list -m); failed=0; \
	for round in $$(seq 1 $(BENCH_ROUNDS)); do \
		echo "round: $$round" | tee -a "$$out"; \
		for p in cxml:$(BENCHTIME_CXML) punchout:$(BENCHTIME_PUNCHOUT); do \
			pkg=$${p%%:*}; echo "pkg: $$module/$$pkg" >>"$$out"; \
			(cd "$$pkg" && "$$bin/$$pkg.test" -test.run '^$$' -test.bench . -test.benchmem -test.benchtime "$${p#*:}") 2>&1 \
				| tee -a "$$out" || { echo "make bench: $$pkg failed in round $$round"; failed=1; }; \
		done; \
	done; \
	$(GO) run ./scripts/benchratio "$$out" || failed=1; \
	echo "make bench: raw output in $$out"; \
	exit $$failed

# Each benchmark once: they check every answer, so this keeps them working
# (CI runs it); it measures nothing.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./cxml ./punchout

# A synthetic month (10,000 organizations, 100,000 agreements, 1,000,000
# usage records, 20,000 POs) billed on SQLite: time, peak heap, invoices
# per second, and the ratio to inserting as many invoice rows directly.
bench-billing:
	$(GO) run ./scripts/benchbilling

# Each fuzz target for FUZZTIME executions.
fuzz-smoke:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
		echo "fuzz $$t in $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg || exit 1; \
	done
