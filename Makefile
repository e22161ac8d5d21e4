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

.PHONY: run test deps lint tidy-check bench bench-smoke bench-billing fuzz fuzz-smoke build

run:
	$(GO) run ./cmd/punchout serve --demo

build:
	$(GO) build -o bin/punchout ./cmd/punchout

deps:
	./scripts/deps.sh

test: deps
	@test -f "$(CXML_DTD_DIR)/cXML.dtd" || { echo "cXML DTDs not found in $(CXML_DTD_DIR); set CXML_DTD_DIR"; exit 1; }
	$(GO) test -race -count=1 $(PKGS)

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

tidy-check:
	$(GO) mod tidy -diff

# Benchmarks print each result as a ratio to a baseline measured in the
# same run (scripts/benchratio).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./cxml | tee /tmp/punchout-bench.txt
	$(GO) test -run '^$$' -bench . -benchmem -count 5 -benchtime 2s ./punchout | tee -a /tmp/punchout-bench.txt
	$(GO) run ./scripts/benchratio /tmp/punchout-bench.txt

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
