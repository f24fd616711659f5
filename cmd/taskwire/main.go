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
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river/rivertype"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/httpapi"
	"github.com/taskwire/taskwire/notify"
	"github.com/taskwire/taskwire/realtime"
	"github.com/taskwire/taskwire/redisbroker"
	"github.com/taskwire/taskwire/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// go-redis prints its connection retries through a package-wide logger;
	// Taskwire reports Redis's state itself (a start-up failure as one
	// line, an outage in its own log and on /readyz and /metrics).
	redis.SetLogger(quietRedis{})
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
		fmt.Fprintln(stdout, "taskwire", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: taskwire [serve|migrate|jobs|import|openapi|version] [flags]; taskwire serve -h lists the flags; "+importUsage)
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, migrate, jobs, import, openapi or version)", cmd)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func openStore(ctx context.Context, cfg config, logger *slog.Logger) (*sqlstore.DB, error) {
	conns := cfg.DBMaxConns
	if conns == 0 {
		conns = max(8, 4*runtime.NumCPU())
	}
	return sqlstore.Open(ctx, cfg.Database, sqlstore.Options{Synchronous: cfg.SQLiteSync, Logger: logger, MaxConns: conns, Writers: cfg.DBWriters})
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	db, pool, err := openWithJobs(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	defer pool.Close()
	fmt.Fprintln(stdout, "migrations applied to", cfg.DatabaseURL)
	return nil
}

// openWithJobs opens the store and the pool the job queue works on (one
// connection on SQLite — River's SQLite driver wants it so — a few on
// PostgreSQL) and applies Taskwire's and River's migrations, one instance
// at a time. The caller closes both.
func openWithJobs(ctx context.Context, cfg config, logger *slog.Logger) (*sqlstore.DB, *sql.DB, error) {
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	conns := 1
	if db.Postgres() {
		conns = 4
	}
	pool, err := db.NewPool(conns)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	err = db.MigrationLock(ctx, func() error {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		return notify.Migrate(ctx, pool, db.Postgres())
	})
	if err != nil {
		pool.Close()
		db.Close()
		return nil, nil, err
	}
	return db, pool, nil
}

// listJobs prints the background jobs that are not done: due, scheduled,
// retrying, running — and the failed ones that exhausted their attempts.
func listJobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	db, pool, err := openWithJobs(ctx, cfg, logger)
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

// secret returns JWT_SECRET, or the one generated once beside the SQLite
// file (loadConfig requires JWT_SECRET with PostgreSQL).
func secret(cfg config, db *sqlstore.DB) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	path := db.Path() + ".secret"
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err == nil {
			path = abs
		}
	}
	return auth.LoadOrCreateSecret(path)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	ensureTwoProcs(getenv)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Redis first: a wrong REDIS_URL fails before the database is touched.
	var rc *redis.Client
	var rb *redisbroker.Broker
	if cfg.RedisURL != "" {
		opts, _ := redis.ParseURL(cfg.RedisURL) // checked by loadConfig
		rc = redis.NewClient(opts)
		defer rc.Close()
		if rb, err = redisbroker.New(ctx, logger, rc, cfg.RedisPrefix, reg); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
	}

	// Email jobs run on River, on their own pool (see openWithJobs).
	db, jobPool, err := openWithJobs(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	defer jobPool.Close()
	key, err := secret(cfg, db)
	if err != nil {
		return err
	}
	tokens, err := auth.NewTokens(key, cfg.JWTTTL)
	if err != nil {
		return err
	}
	hasher, err := auth.NewBcrypt(cfg.BcryptCost)
	if err != nil {
		return err
	}

	var mailer notify.Mailer = notify.LogMailer{Logger: logger}
	if cfg.SMTPURL != "" {
		if mailer, err = notify.NewSMTP(cfg.SMTPURL, cfg.MailFrom); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	queue, err := notify.New(ctx, logger, jobPool, mailer, reg, notify.Options{
		Debounce: cfg.EmailDebounce, MaxAttempts: cfg.EmailMaxAttempts, RetryBase: cfg.EmailRetryBase, BaseURL: cfg.BaseURL,
		Postgres: db.Postgres(),
	})
	if err != nil {
		return err
	}

	// Writers publish committed events and notifications to the broker; the
	// hub consumes them and reads the log through the service to repair
	// gaps and resume. With Redis, instances share fan-out, presence and
	// the auth rate limits.
	instance := instanceID()
	ready := map[string]httpapi.ReadyCheck{"database": db.Ping}
	var broker realtime.Broker = realtime.NewMemoryBroker()
	var presence realtime.PresenceStore
	var limiters func(string, auth.Rate) httpapi.Limiter
	if rb != nil {
		broker, ready["broker"] = rb, rb.Ping
		presence = redisbroker.NewPresence(rc, cfg.RedisPrefix, instance)
		limiters = func(route string, rate auth.Rate) httpapi.Limiter {
			return redisbroker.NewLimiter(rc, cfg.RedisPrefix+"ratelimit:"+route+":", rate)
		}
	}
	pub := notify.NewCountingPublisher(realtime.Publisher{Broker: broker}, reg)
	svc := taskwire.NewService(db, pub, queue, hasher, taskwire.Options{
		RetentionCount: cfg.RetentionCount, RetentionAge: cfg.RetentionAge,
	})
	hub := realtime.NewHub(logger, svc, broker, realtime.Options{
		QueueMessages: cfg.WSQueueMessages, QueueBytes: cfg.WSQueueBytes,
		PingInterval: cfg.WSPingInterval, PongTimeout: cfg.WSPongTimeout, WriteTimeout: cfg.WSWriteTimeout, HeartbeatInterval: cfg.WSHeartbeat,
		ReconcileInterval: cfg.WSReconcile, Instance: instance, Presence: presence, Registerer: reg,
	})
	api := httpapi.New(logger, svc, tokens, hub, ready, reg, httpapi.Config{
		Version: taskwire.APIVersion, CORSOrigins: cfg.CORSOrigins, AuthRate: cfg.AuthRate,
		TrustProxy: cfg.TrustProxy, RedocScriptURL: cfg.RedocScriptURL, AsyncAPI: taskwire.AsyncAPI,
		Limiters: limiters, WSMaxPerUser: cfg.WSMaxPerUser, WSMaxPerAddr: cfg.WSMaxPerAddr,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	if cfg.PprofAddr != "" {
		if err := servePprof(cfg.PprofAddr, logger); err != nil {
			return err
		}
	}

	if err := queue.Start(context.WithoutCancel(ctx), svc); err != nil {
		return err
	}

	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(hubCtx) }()
	janitorDone := make(chan struct{})
	go func() { defer close(janitorDone); janitor(hubCtx, logger, db, cfg) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	addr := ln.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host).IsUnspecified() {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	logger.Info("taskwire started", "addr", addr, "database", cfg.DatabaseURL, "version", version())
	fmt.Fprintf(stdout, "taskwire listening on http://%s\n", addr)

	select {
	case err := <-serveDone:
		stopHub()
		_ = queue.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownGrace)
	graceCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Stop accepting and let in-flight requests finish (their events reach
	// the hub), then flush and close the sockets with 1001.
	shutErr := srv.Shutdown(graceCtx)
	if err := hub.Shutdown(graceCtx); err != nil {
		shutErr = errors.Join(shutErr, fmt.Errorf("sockets: %w", err))
	}
	if err := queue.Stop(graceCtx); err != nil {
		shutErr = errors.Join(shutErr, fmt.Errorf("jobs: %w", err))
	}
	stopHub()
	<-hubDone
	<-janitorDone
	if shutErr != nil {
		logger.Warn("shutdown incomplete", "err", shutErr)
	}
	logger.Info("stopped")
	return nil
}

// janitor prunes expired rows until ctx ends.
func janitor(ctx context.Context, logger *slog.Logger, db *sqlstore.DB, cfg config) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		n, err := db.Prune(ctx, sqlstore.PrunePolicy{
			IdempotencyTTL: taskwire.IdempotencyTTL,
			EventAge:       cfg.RetentionAge,
			EventCount:     cfg.RetentionCount,
		})
		if err != nil && ctx.Err() == nil {
			logger.Error("prune failed", "err", err)
		} else if n > 0 {
			logger.Info("pruned expired rows", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ensureTwoProcs runs Go code on at least two OS threads at once, unless
// GOMAXPROCS says otherwise. SQLite's fsync blocks the writer's thread;
// with a single P the runtime then polls the network only every 10 ms, so
// requests queue instead of joining the next group commit (measured on one
// core: 620 writes/s with one P, 4,700/s with two; see BENCHMARKS.md).
func ensureTwoProcs(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

// instanceID names this process among the instances sharing a broker.
func instanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// quietRedis discards go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// servePprof exposes the profiler on its own listener, never on the API's.
func servePprof(addr string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	logger.Warn("pprof enabled", "addr", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

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
