# Developer entry points. Tools are pinned here and run with `go run pkg@version`,
# so a fresh checkout needs nothing but Go: the first run downloads and builds them
# into the Go caches, later runs reuse the build.

GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
# The OpenAPI linters of `make lint-api`, pinned too, fetched by npx from the npm
# registry (needs Node.js and the network, so `make test` leaves them out).
REDOCLY_VERSION := 2.77.0
SPECTRAL_VERSION := 6.16.3

# Where `make run` builds the service: outside the repository, one binary per checkout
# (relinked from Go's build cache on each run). The recipe then execs it rather than
# `go run`, which exits 1 when the program is stopped by a signal even though it
# stopped cleanly, so that Ctrl-C ends `make run` without "Error 1".
RUN_BIN = $(or $(TMPDIR),/tmp)/accounts-$(shell id -u)-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d ' ' -f 1)/accounts

# Name of the super admin that `make superadmin` creates.
USERNAME ?= admin
# Users seeded for `make bench`'s API benchmarks, e.g. `make bench USERS=1000000`.
USERS ?= 10000
# How long `make fuzz` runs each fuzz target, e.g. `make fuzz FUZZTIME=10m`, and how
# much `make test` does, just enough to catch a regression the seeds do not. The
# latter is a count of runs, not a duration: Go before 1.27 may fail a fuzz run
# whose duration ends while a worker is busy, with a bare "context deadline
# exceeded" and no failing input (go.dev/issue/75804); a count has no deadline. A
# count takes 1 to 3 seconds per target here.
FUZZTIME ?= 1m
FUZZTIME_TEST ?= 5000x

# Every fuzz target, as package:Target. `go test -fuzz` fuzzes one target per run.
# New interesting inputs go to the fuzz cache in GOCACHE (`go clean -fuzzcache`
# empties it); only an input that fails is written to the package's testdata/fuzz,
# to be kept as a regression seed once fixed.
FUZZ_TARGETS := \
	./domain:FuzzValidateUsername \
	./domain:FuzzValidatePassword \
	./ports:FuzzDecode \
	./ports:FuzzDecodeJSON \
	./ports:FuzzParseListQuery \
	./ports:FuzzListQueryParams \
	./ports:FuzzSessionTokens \
	./queries:FuzzParseCursor \
	./queries:FuzzCursorRoundTrip \
	./adapters/token:FuzzSessionID \
	./adapters/token:FuzzIssuedTokens \
	./adapters/password:FuzzEquivalentSpellingsVerify

# fuzz-each runs every fuzz target for $(1), stopping at the first failure.
define fuzz-each
	@for t in $(FUZZ_TARGETS); do \
		echo "go test -run '^\$$' -fuzz '^$${t#*:}\$$' -fuzztime $(1) $${t%%:*}"; \
		go test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(1) "$${t%%:*}" || exit 1; \
	done
endef

.DEFAULT_GOAL := help
.PHONY: help run test test-crash fuzz lint lint-api migrate superadmin bench

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: ## Serve the API with config.toml, after applying pending migrations; Ctrl-C stops it
	@mkdir -p $(dir $(RUN_BIN))
	go build -o $(RUN_BIN) ./app
	exec $(RUN_BIN) serve

test: ## Vet, lint, every test with the race detector (needs PostgreSQL, NATS, RabbitMQ), then each fuzz target briefly
	go vet ./...
	$(GOLANGCI_LINT) run
	go test -race -count=1 ./...
	$(call fuzz-each,$(FUZZTIME_TEST))

test-crash: ## Kill the service with SIGKILL mid-burst for many rounds, then check every event
	go test -count=1 -timeout 30m -run '^TestCrashSafety$$' ./app -args -crash.rounds=30 -crash.users=300

fuzz: ## Run each fuzz target for FUZZTIME (default 1m)
	$(call fuzz-each,$(FUZZTIME))

lint: ## Run golangci-lint only
	$(GOLANGCI_LINT) run

lint-api: ## Lint the OpenAPI document with Redocly (recommended) and Spectral (spectral:oas); needs Node.js and the network
	npx --yes @redocly/cli@$(REDOCLY_VERSION) lint --config ports/openapi/redocly.yaml ports/openapi/openapi.json
	npx --yes @stoplight/spectral-cli@$(SPECTRAL_VERSION) lint --fail-severity=hint -r ports/openapi/spectral.yaml ports/openapi/openapi.json

migrate: ## Apply pending database migrations
	go run ./app migrate up

superadmin: ## Create a super admin named USERNAME (default: admin)
	go run ./app create-superadmin --username $(USERNAME)

bench: ## Run the benchmarks; the API ones on a database of USERS users (default 10000)
	USERS=$(USERS) go test -run '^$$' -bench . -benchmem -timeout 60m ./...
