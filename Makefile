# sgxdbg build. `make demo` and `make test` are the two entry points; see README.md.
GO      ?= go
BIN     := $(CURDIR)/bin
SGXDBG  := $(BIN)/sgxdbg
SAMPLES := $(CURDIR)/enclaves/debug
GOFILES := $(shell find . -name '*.go' -not -path './bin/*')

.PHONY: all build enclaves test test-short demo bench fuzz-short lint clean

all: build enclaves

build: $(SGXDBG)

# The revision and its time for `sgxdbg version` (go's own VCS stamping is
# off under -buildvcs=false and absent in git worktrees).
REVISION := $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo ' (modified)')
REVTIME  := $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS  := -X 'main.revision=$(REVISION)' -X 'main.revisionTime=$(REVTIME)'

$(SGXDBG): $(GOFILES) go.mod go.sum
	@test -x $@ || echo "building sgxdbg (the first build compiles every dependency: about a minute)…"
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/sgxdbg

# The sample enclaves and their host, signed with a key made at build time.
enclaves: $(SGXDBG)
	$(MAKE) -C $(SAMPLES) SGXDBG=$(SGXDBG)

# Everything: vet, unit, integration (real host and enclaves under ptrace).
test: build enclaves
	$(GO) vet ./...
	$(MAKE) -C $(SAMPLES) SGXDBG=$(SGXDBG) check
	SGXDBG_SAMPLES=$(SAMPLES)/build SGXDBG=$(SGXDBG) $(GO) test -count=1 -timeout 20m ./...

demo: build enclaves
	@$(SAMPLES)/demo.sh $(SGXDBG) $(SAMPLES)/build

bench: build enclaves
	SGXDBG_SAMPLES=$(SAMPLES)/build $(GO) test -run '^$$' -bench . -benchtime 2s ./...

# Each fuzz target for a few seconds (go test -fuzz takes one target at a time).
FUZZTIME ?= 5s
fuzz-short: build enclaves
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x $$pkg; \
	  done; \
	done

STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(STATICCHECK) ./...

clean:
	rm -rf $(BIN)
	$(MAKE) -C $(SAMPLES) clean
