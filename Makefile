# gospamd — see README.md for the two commands that matter:
#   make run                                    the daemon, embedded config, ./data
#   make test-deps && GOSPAMD_REQUIRE_PEERS=1 make test

SHELL    := /bin/bash
GO       ?= go
BIN      := bin
DATA     ?= data
PORT     ?= 7830
CORPUS   ?= $(shell ./scripts/shared-dir.sh)/corpus/spamassassin-2002-set1
GOBIN    := $(shell $(GO) env GOPATH)/bin
FUZZTIME ?= 60s

.PHONY: all build run test test-deps test-race bench bench-deps bench-peers fuzz lint check clean

all: build

build:
	$(GO) build -o $(BIN)/gospamd ./cmd/gospamd
	$(GO) build -o $(BIN)/gospamc ./cmd/gospamc

run: build
	mkdir -p $(DATA)
	$(BIN)/gospamd serve --dbpath $(DATA)/bayes --listen 127.0.0.1:$(PORT)

test-deps:
	./scripts/test-deps.sh

# The peers make bench compares gospamd with (rspamd, redis-server,
# bogofilter); make test does not need them.
bench-deps:
	./scripts/bench-deps.sh

# The test suite: lint, then every package's tests in random order, then the
# store's crash and concurrency tests again under the race detector. Both
# runs go through scripts/testsummary, which prints what go test prints
# (failures with their output, a line a package) and then every skipped
# test with its reason and every failed test; go test's status is kept.
test: lint
	@set -o pipefail; { \
	  $(GO) test -json -shuffle=on -timeout 25m ./... || exit; \
	  $(GO) test -json -race -timeout 10m ./classifier/ ./learn/; \
	} | $(GO) run ./scripts/testsummary

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./tokenizer/ ./classifier/ ./learn/ ./corpus/ ./spamdproto/
	$(GO) test -run '^$$' -bench 'BenchmarkScanDefaultRules(Separate)?$$' -benchtime 3250x ./rules/
	$(GO) test -run '^$$' -bench 'BenchmarkScanStockRules(Separate)?$$' -benchtime 1000x ./rules/
	@# Pebble and Redis (a local redis-server), alternated in one run; prints their ratio.
	$(GO) test -run '^$$' -bench '^BenchmarkDaemonLoadRatio$$' -benchtime 3000x ./cmd/gospamd/
	$(GO) test -run '^$$' -bench 'BenchmarkSpamAssassinSpamdLoad' -benchtime 80x ./cmd/gospamd/
	$(GO) test -run '^$$' -bench 'BenchmarkSMTPEndToEnd' -benchtime 2000x ./mta/
	./scripts/bench-corpus.sh $(CORPUS)
	$(MAKE) bench-peers

# gospamd beside rspamd, SpamAssassin's spamd and bogofilter in one run,
# on the newest 30% of the corpus that no store has learned (see
# scripts/peerbench); a peer not installed (make bench-deps) is reported
# as skipped.
bench-peers: build
	$(GO) run ./scripts/peerbench -bin $(BIN)/gospamd -corpus $(CORPUS)

# Every parser's fuzz target in turn, FUZZTIME each; crashers land in the
# package's testdata/fuzz/ and are committed as seeds.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./tokenizer/
	$(GO) test -run '^$$' -fuzz '^FuzzReadRequest$$' -fuzztime $(FUZZTIME) ./spamdproto/
	$(GO) test -run '^$$' -fuzz '^FuzzSplitMbox$$' -fuzztime $(FUZZTIME) ./corpus/
	$(GO) test -run '^$$' -fuzz '^FuzzRestore$$' -fuzztime $(FUZZTIME) ./classifier/
	$(GO) test -run '^$$' -fuzz '^FuzzReadReply$$' -fuzztime $(FUZZTIME) ./classifier/redisstore/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./rules/cf/
	$(GO) test -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) ./rules/re/
	@# The SMTP session reaches the whole scan path: new coverage is frequent,
	@# and minimizing each find for the default 60 s would take the run.
	$(GO) test -run '^$$' -fuzz '^FuzzSMTPSession$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./mta/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if [ -x $(GOBIN)/staticcheck ]; then $(GOBIN)/staticcheck ./...; \
	  elif [ "$$GOSPAMD_REQUIRE_PEERS" = 1 ]; then echo "staticcheck missing: run make test-deps"; exit 1; \
	  else echo "staticcheck not installed (make test-deps); skipped"; fi

check: lint

clean:
	rm -rf $(BIN)
