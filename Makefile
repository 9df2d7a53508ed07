# mm — the two commands a newcomer needs are `make demo` and `make test`.
# Every other target is for developers.

GO      ?= go
BIN     ?= bin
GOFLAGS_TEST ?= -count=1 -timeout 14m

.PHONY: all build test test-short bench proto lint demo tools clean contracts

all: build

## build: mm and its dev chain, mm-devnet, into ./bin (mm devnet runs the
## mm-devnet found next to mm; go-ethereum's node is kept out of mm itself)
## Static where the C toolchain allows it (libc.a present): a static binary
## starts 0.5–1.3 ms faster per process, and mm starts two per signature; a
## plain build otherwise.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDVERSION = -X main.version=$(VERSION)
STATIC_FLAGS ?= -tags netgo,osusergo -ldflags '-linkmode external -extldflags -static $(LDVERSION)'
build:
	@for t in mm mm-devnet; do \
		$(GO) build -trimpath $(STATIC_FLAGS) -o $(BIN)/$$t ./cmd/$$t 2>/dev/null \
		|| { echo "build: static link of $$t unavailable, building it dynamically" >&2; \
		     $(GO) build -trimpath -ldflags '$(LDVERSION)' -o $(BIN)/$$t ./cmd/$$t; } || exit 1; \
	done

## demo: a short tour on embedded defaults — dev chain, emulated Ledger, BYOK
## and Ledger wallets, ETH and USDC transfers, a Ledger signature, the history
## — in a temporary state folder; everything it starts is stopped at the end
## The tour needs no USB and no C: its binaries are built pure Go
## (CGO_ENABLED=0), in one go build, which halves a first build on a fresh
## clone (no libsecp256k1, libusb, blst to compile).
demo:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/demo/ ./cmd/mm ./cmd/mm-devnet ./hwtest/cmd/ledger-emulator ./cmd/mm-demo
	@$(BIN)/demo/mm-demo --bin $(BIN)/demo

## test: everything CI runs (unit, plugin processes, emulators, dev chain)
test: tools
	$(GO) vet ./...
	$(GO) test $(GOFLAGS_TEST) ./...

## bench: performance figures, each printed beside its baseline from the same
## run, then a summary against the targets (cmd/mm-benchsummary); the exit
## status is go test's. -p 1: one package at a time, so that no benchmark
## shares the CPUs with another package's
bench:
	@{ $(GO) test -p 1 -run '^$$' -bench . -benchtime 200x -count 1 ./... 2>&1; echo "mm-benchsummary: exit $$?"; } | $(GO) run ./cmd/mm-benchsummary

## proto: regenerate committed protobuf code
proto: tools
	$(GO) generate -run protoc ./...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...

## contracts: recompile the dev chain's fixture contracts (pinned solc from npm; outputs are committed)
contracts:
	./core/devnet/contracts/build.sh

## tools: what the tests and generators need that a fresh machine lacks
tools:
	@./.ci/tools.sh

clean:
	rm -rf $(BIN)
