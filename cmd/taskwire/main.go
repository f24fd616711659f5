// Command taskwire runs the Taskwire server.
//
//	taskwire [serve] [flags]   run the server (the default)
//	taskwire migrate [flags]   apply database migrations and exit
//	taskwire jobs [flags]      list pending and failed background jobs
//	taskwire import --from sqlite:///path.db [flags]
//	                           copy a SQLite database into an empty PostgreSQL one
//	taskwire openapi           print the OpenAPI document
//	taskwire version           print the version
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river/rivertype"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/httpapi"
	"github.com/taskwire/taskwire/internal/app"
	"github.com/taskwire/taskwire/notify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// go-redis prints its connection retries through a package-wide logger;
	// Taskwire reports Redis's state itself (a start-up failure as one
	// line, an outage in its own log and on /readyz and /metrics).
	redis.SetLogger(quietRedis{})
	ensureTwoProcs()
	gcEvery200()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "taskwire:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own arguments,
// environment and outputs, and stop it by cancelling ctx.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "openapi":
		return printOpenAPI(stdout)
	case "jobs":
		return listJobs(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importDB(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "taskwire", app.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: taskwire [serve|migrate|jobs|import|openapi|version] [flags]; taskwire serve -h lists the flags; "+importUsage)
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, migrate, jobs, import, openapi or version)", cmd)
}

// serve builds the application from the configuration and runs it until
// ctx ends (SIGTERM, SIGINT), printing where it listens.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := app.LoadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: app.NewLogger(cfg, stderr)})
	if err != nil {
		return err
	}
	// The first line is the one scripts and tests read.
	url := a.URL()
	ws := "ws" + strings.TrimPrefix(url, "http")
	fmt.Fprintf(stdout, "taskwire listening on %s\n", url)
	fmt.Fprintf(stdout, "  API docs   %s/docs (Swagger UI), %s/redoc, %s/openapi.json\n", url, url, url)
	fmt.Fprintf(stdout, "  WebSockets %s/ws/projects/{id}?token=... (the protocol: %s/asyncapi.yaml)\n", ws, url)
	fmt.Fprintf(stdout, "  health     %s/healthz, %s/readyz, %s/metrics\n", url, url, url)
	return a.Run(ctx)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := app.LoadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	db, pool, err := app.OpenDatabase(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	defer pool.Close()
	fmt.Fprintln(stdout, "migrations applied to", cfg.DatabaseURL)
	return nil
}

// listJobs prints the background jobs that are not done: due, scheduled,
// retrying, running — and the failed ones that exhausted their attempts.
func listJobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := app.LoadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, stderr)
	db, pool, err := app.OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	defer pool.Close()
	queue, err := notify.New(ctx, logger, pool, notify.LogMailer{Logger: logger}, nil, notify.Options{Postgres: db.Postgres()})
	if err != nil {
		return err
	}
	for _, group := range []struct {
		title  string
		states []rivertype.JobState
	}{
		{"pending", []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStateRunning}},
		{"failed (attempts exhausted, kept 7 days)", []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}},
	} {
		jobs, err := queue.Jobs(ctx, group.states, 1000)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d\n", group.title, len(jobs))
		for _, j := range jobs {
			last := ""
			if n := len(j.Errors); n > 0 {
				last = j.Errors[n-1].Error
			}
			fmt.Fprintf(stdout, "  #%d %s %s attempt %d/%d scheduled %s %s %s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
				j.ScheduledAt.UTC().Format(time.RFC3339), j.EncodedArgs, last)
		}
	}
	return nil
}

// ensureTwoProcs runs Go code on at least two OS threads at once, unless
// GOMAXPROCS says otherwise. SQLite's fsync blocks the writer's thread;
// with a single P the runtime then polls the network only every 10 ms, so
// requests queue instead of joining the next group commit (measured on one
// core: 620 writes/s with one P, 4,700/s with two; see BENCHMARKS.md).
func ensureTwoProcs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

// gcEvery200 lets the heap grow to three times what is live before the
// collector runs (GOGC=200) unless GOGC is set. Collecting costs in
// proportion to what is allocated over GOGC; at the default of 100 a core
// serving durable writes spent about a tenth of its time collecting, and
// the pauses made the slowest writes slower (BENCHMARKS.md: 64 clients
// +8 %, 8 clients p99 6.1 → 4.4 ms); the price is a larger heap between
// collections. GOGC=100 restores the runtime's default.
func gcEvery200() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// quietRedis discards go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// printOpenAPI writes the document exactly as GET /openapi.json serves it.
func printOpenAPI(stdout io.Writer) error {
	api := httpapi.New(slog.New(slog.DiscardHandler), nil, nil, nil, nil, nil, httpapi.Config{Version: taskwire.APIVersion})
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("openapi: status %d", rec.Code)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, rec.Body.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := stdout.Write(out.Bytes())
	return err
}
