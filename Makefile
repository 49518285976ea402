# keyleak — build, test and demo targets. `make demo` and `make test` are the
# two commands of the README's quick start.

GO       ?= go
BIN      := bin/keyleak
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X github.com/keyleak/keyleak/internal/cli.Version=$(VERSION) \
	-X github.com/keyleak/keyleak/internal/cli.Commit=$(COMMIT) -X github.com/keyleak/keyleak/internal/cli.Date=$(DATE)

.PHONY: all build test lint bench eval demo e2e tidy-check clean man fuzz lambda

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/keyleak

# Man pages (section 1), one per command, from the command tree itself.
man:
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/gendocs bin/man

# The unattended responder as a Lambda function (provided.al2023):
# bin/keyleak-lambda.zip holds the binary named bootstrap, as the runtime
# wants it. LAMBDA_ARCH is arm64 (default) or amd64; the template's
# Architecture parameter must match (arm64 or x86_64).
LAMBDA_ARCH ?= arm64
lambda:
	@mkdir -p bin/lambda
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -trimpath -tags lambda.norpc \
		-ldflags '-s -w -X github.com/keyleak/keyleak/internal/autorespond.Version=$(VERSION)' \
		-o bin/lambda/bootstrap ./cmd/keyleak-lambda
	@rm -f bin/keyleak-lambda.zip
	@if command -v zip >/dev/null 2>&1; then cd bin/lambda && zip -q -9 ../keyleak-lambda.zip bootstrap; \
		else cd bin/lambda && python3 -m zipfile -c ../keyleak-lambda.zip bootstrap; fi
	@echo "bin/keyleak-lambda.zip ($(LAMBDA_ARCH)); deploy it with examples/auto-response/README.md"

# The README's test command. Integration tests start moto_server and use the
# AWS CLI themselves; they skip locally when those are missing and fail in CI.
#
# Where the AWS CLI comes through a pyenv shim, the tests run it (and
# moto_server beside it) from the pyenv version's own bin directory: the
# shim resolves the version on every start, half a second each, and the
# tests start these tools about a hundred times. The programs run are the
# ones the shim would run.
PYENV_BIN = $(shell command -v aws | grep -q /.pyenv/shims/ && dirname "$$(pyenv which aws 2>/dev/null)" 2>/dev/null)
#
# -parallel 4: most of the command tests wait on a simulator's pacing, a
# moto_server or the AWS CLI much of the time, so four at a time keep two
# cores busy where two at a time left them half idle.
#
# The race detector's runtime sleeps a second as each test binary exits
# (GORACE atexit_sleep_ms, for reports of goroutines still running); there
# are thirty binaries. Linking them without DWARF (-ldflags=-s -w) saves a
# fifth of the link time; race reports and panics still name file and line
# (those come from the binary's own tables, not DWARF).
test:
	PATH="$(if $(PYENV_BIN),$(PYENV_BIN):)$$PATH" GORACE=atexit_sleep_ms=0 \
		$(GO) test -race -count=1 -parallel 4 -ldflags='-s -w' -timeout 30m ./...

lint: tidy-check
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; fi

tidy-check:
	@cp go.mod /tmp/keyleak-go.mod.bak && cp go.sum /tmp/keyleak-go.sum.bak
	@$(GO) mod tidy
	@if ! cmp -s go.mod /tmp/keyleak-go.mod.bak || ! cmp -s go.sum /tmp/keyleak-go.sum.bak; then \
		echo "go mod tidy changes go.mod/go.sum; run it and commit"; \
		cp /tmp/keyleak-go.mod.bak go.mod; cp /tmp/keyleak-go.sum.bak go.sum; exit 1; fi

# Benchmarks, one run each (-benchtime 1x: each builds its own simulator or
# log tree and takes seconds to minutes), about 2 minutes in all on 2 cores
# with the defaults, most of it the AWS CLI's per-region loop.
# They report metrics and never fail on time. The raw output goes to
# bin/bench.txt (benchstat reads it), then the metrics one a line.
# Sizes: KEYLEAK_BENCH_VOLUME (investigate, events; default 5000),
# KEYLEAK_BENCH_LOG_MB (log scan, uncompressed MB; default 600),
# KEYLEAK_BENCH_LOG_ROUNDS (log scan, rounds of which each way's best
# counts; default 3),
# KEYLEAK_REPORT_BENCH_EVENTS (workbook; default 100000). BENCH selects
# benchmarks by name: make bench BENCH=Contain.
BENCH      ?= .
BENCH_PKGS := ./internal/cli/ ./trail/ ./report/ ./internal/awssim/ ./internal/tui/ ./internal/autorespond/

bench: bench-deps
	@mkdir -p bin
	@{ $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 60m $(BENCH_PKGS) 2>&1; \
		echo $$? > bin/bench.rc; } | tee bin/bench.txt
	@$(MAKE) --no-print-directory bench-summary
	@exit $$(cat bin/bench.rc)

# bench-deps installs igzip (ISA-L, Debian's isal), the log scan's fastest
# baseline, when it is missing and this machine can (root with apt-get);
# otherwise the benchmark says so and compares with gzip alone.
.PHONY: bench-deps
bench-deps:
	@command -v igzip >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y -qq isal >/dev/null 2>&1 || \
			{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq isal >/dev/null 2>&1; }; \
		fi; \
		command -v igzip >/dev/null 2>&1 || echo "bench: igzip (Debian package isal) is not installed and could not be; the log scan is compared with gzip alone"; }

# bench-summary prints the metrics of the last `make bench` (bin/bench.txt)
# one a line under each benchmark's title.
.PHONY: bench-summary
bench-summary:
	@awk "$$BENCH_SUMMARY_AWK" bin/bench.txt

define BENCH_SUMMARY_AWK
BEGIN {
	title["ContainLatency"] = "contain: time until the leaked key is Inactive, 100 ms added to every request (goal: round-trips <= 3)"
	title["ContainAllCredentials/github-push"] = "contain, github-push: time until the last attacker credential is refused, 100 ms added to every request (goal: s-to-last-refused <= 5)"
	title["ContainAllCredentials/session-persistence"] = "contain, session-persistence: time until the last attacker credential is refused, 100 ms added to every request (goal: s-to-last-refused <= 5)"
	title["InvestigateVsAWSCLI"] = "investigate: keyleak vs the LookupEvents throttle floor vs a per-region AWS CLI loop (goal: x-floor <= 1.15)"
	title["InvestigateLogsVsIgzip"] = "investigate --logs --offline end to end (scan, 22 derived keys, assessment, case) vs igzip -dc and gzip -dc, best of rounds (goal: investigate/igzip >= 1.0)"
	title["OrgSweep"] = "org sweep: KEYLEAK_BENCH_ORG_ACCOUNTS accounts x 17 regions, one in ten without the role, at the LookupEvents quota (goal: x-floor <= 1.10; x-chain-floor: over the soonest a sweep can know each key)"
	title["ScanLogsVsGzip"] = "log files: trail.ScanLogs with 22 derived keys vs igzip -dc and gzip -dc, same files, same parallelism, best of rounds (goal: scan/igzip >= 1.0; MB = 10^6 bytes)"
	title["WriteXLSX"] = "report: the Excel workbook"
	title["HealthEventToLastRefusal"] = "unattended (Lambda handler), github-push: from the Health event to the last attacker credential refused, 100 ms added to every request (goal: s-to-last-refused <= 10)"
	print ""; print "==== benchmark metrics ===="
}
/^pkg: / { pkg = $$2 }
/^Benchmark/ {
	name = $$1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$$/, "", name)
	print ""
	short = pkg; sub(/^github.com\/keyleak\/keyleak\//, "", short)
	print (name in title ? title[name] : name) "  [" name ", " short "]"
	print sprintf("  %-22s %.2f s", "op-wall", $$3 / 1e9)
	for (i = 5; i < NF; i += 2) print sprintf("  %-22s %s", $$(i + 1), $$i)
}
/^--- (SKIP|FAIL|BENCH)/ { print $$0 }
/^    bench_test.go/ { print $$0 }
endef
export BENCH_SUMMARY_AWK

# Every fuzz target (func Fuzz… in the tests) for FUZZTIME each (default
# 30s), one after the other, then a table of executions and crashes; exits 1
# on a crash, whose input is left in the package's testdata/fuzz. `make
# test` runs the targets' seed corpora as ordinary tests (the brief run CI
# makes). FUZZ selects targets by name: make fuzz FUZZ=Journal FUZZTIME=2m.
FUZZTIME ?= 30s
FUZZ     ?= .

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh '$(FUZZ)'

eval: build
	$(BIN) eval

demo: build
	$(BIN) demo

# The terminal UI end to end: `keyleak demo` in a tmux pane, driven with keys
# and checked with capture-pane at each step (needs tmux).
e2e: build
	KEYLEAK_BIN=$(BIN) scripts/e2e.sh

clean:
	rm -rf bin
