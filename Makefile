# Taskwire builds with Go 1.27; machines here start on an older local Go.
export GOTOOLCHAIN := go1.27.3

GO      ?= go
BIN     := bin/taskwire
PYTHON  ?= /usr/bin/python3

.PHONY: run build test test-clients test-web check vet fmt-check staticcheck vulncheck unit compat deploy-test openapi bench fuzz-ci reliability soak clean

## run: start the server on the embedded default (SQLite file ./taskwire.db, port 8080)
run: build
	./$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/taskwire

## test: everything CI checks: formatting, vet, staticcheck, the race-enabled test suite
test: check unit

check: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

## vulncheck: govulncheck ./... offline, against a vulnerability database built locally from the golang.org/x/vulndb module
vulncheck:
	GO=$(GO) scripts/govulncheck.sh

# The PostgreSQL and Redis suites read these; when they are unset and the
# services answer on their usual local ports (as on the development and CI
# machines), make test points them there itself.
LOCAL_PG    := postgres://postgres@127.0.0.1:5432/test?sslmode=disable
LOCAL_REDIS := redis://127.0.0.1:6379/0

# The HTTP suite's socket tests (the property test among them), which make
# test runs on both ways of writing sockets (WS_IO).
# The first run writes every socket through io_uring (WS_IO=uring: the
# default, auto, uses the ring only for large fan-outs, which tests rarely
# make); where io_uring is not usable, run make test TEST_WS_IO=auto.
TEST_WS_IO ?= uring
SOCKET_TESTS := Realtime|WS|Socket|Protocol|ResumeProperty|Presence|Resync|Reconciler|TokenExpiry|ClientMessage|ConnectFlood

unit:
	@pg="$$TASKWIRE_TEST_POSTGRES_URL"; rd="$$TASKWIRE_TEST_REDIS_URL"; \
	if [ -z "$$pg" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then pg='$(LOCAL_PG)'; echo "PostgreSQL answers locally: TASKWIRE_TEST_POSTGRES_URL=$$pg"; fi; \
	if [ -z "$$rd" ] && command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then rd='$(LOCAL_REDIS)'; echo "Redis answers locally: TASKWIRE_TEST_REDIS_URL=$$rd"; fi; \
	export TASKWIRE_TEST_POSTGRES_URL="$$pg" TASKWIRE_TEST_REDIS_URL="$$rd"; \
	echo "TASKWIRE_TEST_WS_IO=$(TEST_WS_IO): every package, sockets written through io_uring"; \
	TASKWIRE_TEST_WS_IO=$(TEST_WS_IO) $(GO) test -race -count=1 -timeout 15m ./... || exit 1; \
	echo "TASKWIRE_TEST_WS_IO=writev: the realtime package, the socket tests of httpapi and the SQLite crash suite again, sockets written with writev"; \
	TASKWIRE_TEST_WS_IO=writev $(GO) test -race -count=1 -timeout 10m ./realtime/ || exit 1; \
	TASKWIRE_TEST_WS_IO=writev $(GO) test -race -count=1 -timeout 10m ./httpapi/ -run '$(SOCKET_TESTS)' || exit 1; \
	TASKWIRE_TEST_WS_IO=writev $(GO) test -race -count=1 -timeout 10m ./cmd/taskwire/ -run 'CrashSafetySQLite' || exit 1; \
	if [ -n "$$pg" ]; then \
		echo "TASKWIRE_TEST_STORE=postgres go test -race ./httpapi/ (the HTTP suite again, on PostgreSQL)"; \
		TASKWIRE_TEST_STORE=postgres $(GO) test -race -count=1 -timeout 10m ./httpapi/; \
	elif [ "$$TASKWIRE_REQUIRE_SERVICES" = 1 ]; then \
		echo "TASKWIRE_REQUIRE_SERVICES=1 but TASKWIRE_TEST_POSTGRES_URL is unset"; exit 1; \
	else echo "no PostgreSQL (TASKWIRE_TEST_POSTGRES_URL unset, none on 127.0.0.1:5432): its suites were skipped"; fi

## test-clients: the TypeScript client's unit and end-to-end suites (npm ci from the lockfile; the end-to-end tests run the binary built here)
test-clients: build
	cd clients/typescript && npm ci --no-audit --no-fund && \
		TASKWIRE_BIN=$(CURDIR)/$(BIN) TASKWIRE_REQUIRE_SERVER=1 npm test

## test-web: rebuild the web app from its lockfile, fail if the committed build differs, then the browser suite (Chromium) against the binary that embeds it
test-web:
	cd web && npm ci --no-audit --no-fund && npm run build
	@if [ -n "$$(git status --porcelain -- web/dist)" ]; then \
		git status --short -- web/dist; \
		echo "web/dist differs from a fresh build of web/: run (cd web && npm run build) and commit web/dist"; exit 1; fi
	$(MAKE) build
	cd web && TASKWIRE_BIN=$(CURDIR)/$(BIN) npm test

## compat: play the seed's flow with Python requests + websockets against a real server
compat: build
	@dir=$$(mktemp -d); \
	PORT=0 DATABASE_URL="sqlite:///$$dir/compat.db" BCRYPT_COST=4 LOG_LEVEL=warn ./$(BIN) serve > $$dir/out 2> $$dir/err & pid=$$!; \
	for i in $$(seq 50); do grep -q listening $$dir/out 2>/dev/null && break; sleep 0.1; done; \
	url=$$(sed -n 's/^taskwire listening on //p' $$dir/out); \
	$(PYTHON) scripts/seed_flow.py "$$url"; status=$$?; \
	kill -TERM $$pid; wait $$pid; rm -rf $$dir; exit $$status

## deploy-test: deploy/nginx.conf in front of two instances on PostgreSQL + Redis (needs nginx)
deploy-test: build
	deploy/nginx-test.sh ./$(BIN)

## openapi: regenerate openapi.json from the code
openapi:
	$(GO) run ./cmd/taskwire openapi > openapi.json

## fuzz-ci: every fuzz target for FUZZTIME each (default 10s)
fuzz-ci:
	GO=$(GO) scripts/fuzz-ci.sh

## reliability: the whole reliability, security and load suite with a summary table (about an hour; see RELIABILITY.md)
reliability:
	GO=$(GO) scripts/reliability.sh

## soak: 30 minutes of mixed load with churning sockets, then the leak check (SOAK_DURATION to change)
soak:
	GO=$(GO) scripts/soak.sh $${SOAK_DURATION:-30m}

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

clean:
	rm -rf bin
