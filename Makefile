# keyleak — build, test and demo targets. `make demo` and `make test` are the
# two commands of the README's quick start.

GO       ?= go
BIN      := bin/keyleak
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X github.com/keyleak/keyleak/internal/cli.Version=$(VERSION)

.PHONY: all build test lint bench eval demo e2e tidy-check clean

all: lint test build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/keyleak

# The README's test command. Integration tests start moto_server and use the
# AWS CLI themselves; they skip locally when those are missing and fail in CI.
test:
	$(GO) test -race -count=1 ./...

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

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

eval: build
	$(BIN) eval

demo: build
	$(BIN) demo

clean:
	rm -rf bin
