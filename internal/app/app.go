// Package app assembles Taskwire from its configuration: the database and
// its job queue, the broker, the domain service, the realtime hub and the
// HTTP server. cmd/taskwire and the HTTP and system tests build the same
// App, so tests run the production object graph.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/httpapi"
	"github.com/taskwire/taskwire/internal/egress"
	"github.com/taskwire/taskwire/notify"
	"github.com/taskwire/taskwire/realtime"
	"github.com/taskwire/taskwire/redisbroker"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/web"
	"github.com/taskwire/taskwire/webhook"
)

// App is the whole server. New opens everything it needs; Run serves until
// its context ends or Shutdown is called, then stops every goroutine it
// started, in order, and releases what New opened.
type App struct {
	cfg    Config
	logger *slog.Logger
	reg    *prometheus.Registry

	redis   *redis.Client // nil without REDIS_URL
	db      *sqlstore.DB
	jobPool *sql.DB // River's connections (see OpenDatabase)
	queue   *notify.Queue
	egress  *egress.Client  // webhook deliveries and URL checks
	hooks   *webhook.Worker // works the queue's webhook jobs
	svc     *taskwire.Service
	hub     *realtime.Hub
	tokens  *auth.Tokens
	srv     *http.Server
	ln      net.Listener
	pprof   *pprofServer // nil without PPROF_ADDR

	quit      chan struct{} // closed by Shutdown
	quitOnce  sync.Once
	done      chan struct{} // closed when Run has stopped everything
	closeOnce sync.Once
}

// Options are what a caller may supply besides the configuration.
type Options struct {
	// Logger receives the server's log (default: discarded).
	Logger *slog.Logger
	// Mailer sends email (default: the SMTP server of Config.SMTPURL, or
	// the log when it is empty).
	Mailer notify.Mailer
	// WrapPublisher, when set, wraps what the service hands committed
	// events and notifications to: tests use it to lose or delay publishes
	// as a broker outage would.
	WrapPublisher func(taskwire.Publisher) taskwire.Publisher
}

// New opens the database (migrating it, adopting a seed file), Redis when
// configured, and the listeners, and builds the application on them. It
// starts nothing: Run does. Errors are one line naming the setting at
// fault where there is one.
func New(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, logger: opts.Logger, reg: prometheus.NewRegistry(), quit: make(chan struct{}), done: make(chan struct{})}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Redis first: a wrong REDIS_URL fails before the database is touched.
	var rb *redisbroker.Broker
	if cfg.RedisURL != "" {
		ropts, _ := redis.ParseURL(cfg.RedisURL) // checked by LoadConfig
		a.redis = redis.NewClient(ropts)
		if rb, err = redisbroker.New(ctx, a.logger, a.redis, cfg.RedisPrefix, a.reg); err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
	}
	if a.db, a.jobPool, err = OpenDatabase(ctx, cfg, a.logger); err != nil {
		return nil, err
	}
	if err := a.buildService(ctx, cfg, opts, rb); err != nil {
		return nil, err
	}
	if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.PprofAddr != "" {
		if a.pprof, err = listenPprof(cfg.PprofAddr); err != nil {
			return nil, err
		}
		a.logger.Warn("pprof enabled", "addr", a.pprof.ln.Addr().String())
	}
	return a, nil
}

// buildService builds the job queue, the broker, the domain service, the
// hub and the HTTP server on the open database (and Redis broker, if any).
func (a *App) buildService(ctx context.Context, cfg Config, opts Options, rb *redisbroker.Broker) error {
	key, err := secret(cfg, a.db)
	if err != nil {
		return err
	}
	if a.tokens, err = auth.NewTokens(key, cfg.JWTTTL); err != nil {
		return err
	}
	hasher, err := auth.NewBcrypt(cfg.BcryptCost)
	if err != nil {
		return err
	}
	mailer := opts.Mailer
	if mailer == nil {
		mailer = notify.LogMailer{Logger: a.logger}
		if cfg.SMTPURL != "" {
			if mailer, err = notify.NewSMTP(cfg.SMTPURL, cfg.MailFrom); err != nil {
				return fmt.Errorf("config: %w", err)
			}
		}
	}
	hopts := webhookOptions(cfg)
	a.egress = egress.New(egress.Options{AllowPrivate: cfg.WebhookAllowPrivate, Timeout: cfg.WebhookTimeout})
	a.hooks = webhook.NewWorker(a.logger, a.egress, hopts)
	a.queue, err = notify.New(ctx, a.logger, a.jobPool, mailer, a.reg, notify.Options{
		Debounce: cfg.EmailDebounce, MaxAttempts: cfg.EmailMaxAttempts, RetryBase: cfg.EmailRetryBase, BaseURL: cfg.BaseURL,
		Postgres: a.db.Postgres(),
		Kinds: []notify.Kind{{Queue: webhook.Queue, MaxWorkers: a.hooks.Workers(), Register: a.hooks.Register,
			FetchCooldown: webhook.FetchCooldown}},
	})
	if err != nil {
		return err
	}

	// Writers publish committed events and notifications to the broker;
	// the hub consumes them and reads the log through the service to
	// repair gaps and resume. With Redis, instances share fan-out,
	// presence and the auth rate limits.
	instance := instanceID()
	ready := map[string]httpapi.ReadyCheck{"database": a.db.Ping}
	var broker realtime.Broker = realtime.NewMemoryBroker()
	var presence realtime.PresenceStore
	var limiters func(string, auth.Rate) httpapi.Limiter
	if rb != nil {
		broker, ready["broker"] = rb, rb.Ping
		presence = redisbroker.NewPresence(a.redis, cfg.RedisPrefix, instance)
		limiters = func(route string, rate auth.Rate) httpapi.Limiter {
			return redisbroker.NewLimiter(a.redis, cfg.RedisPrefix+"ratelimit:"+route+":", rate)
		}
	}
	var pub taskwire.Publisher = realtime.Publisher{Broker: broker}
	if opts.WrapPublisher != nil {
		pub = opts.WrapPublisher(pub)
	}
	a.svc = taskwire.NewService(a.db, newCountingPublisher(pub, a.reg), hasher, taskwire.Options{
		RetentionCount: cfg.RetentionCount, RetentionAge: cfg.RetentionAge, ReminderLead: cfg.ReminderLead,
		InvitationTTL: cfg.InvitationTTL,
		WebhookURLs:   webhook.URLChecker{Client: a.egress},
	})
	a.hub = realtime.NewHub(a.logger, a.svc, broker, realtime.Options{
		QueueMessages: cfg.WSQueueMessages, QueueBytes: cfg.WSQueueBytes,
		PingInterval: cfg.WSPingInterval, PongTimeout: cfg.WSPongTimeout, WriteTimeout: cfg.WSWriteTimeout, HeartbeatInterval: cfg.WSHeartbeat,
		ReconcileInterval: cfg.WSReconcile, Instance: instance, Presence: presence, Registerer: a.reg,
		IO: cfg.WSIO,
	})
	switch path, why := a.hub.IO(); {
	case cfg.WSIO == realtime.IOURing && path != realtime.IOURing:
		_ = a.hub.Shutdown(ctx)
		return fmt.Errorf("WS_IO=uring: io_uring is not usable here (%v); use WS_IO=auto or writev", why)
	case why != nil:
		a.logger.Info("realtime: sockets are written with writev", "ws_io", cfg.WSIO, "io_uring", why.Error())
	default:
		a.logger.Info("realtime: sockets are written with "+path, "ws_io", cfg.WSIO)
	}
	api := httpapi.New(a.logger, a.svc, a.tokens, a.hub, ready, a.reg, httpapi.Config{
		Version: taskwire.APIVersion, CORSOrigins: cfg.CORSOrigins, AuthRate: cfg.AuthRate,
		TrustProxy: cfg.TrustProxy, RedocScriptURL: cfg.RedocScriptURL, AsyncAPI: taskwire.AsyncAPI,
		Limiters: limiters, WSMaxPerUser: cfg.WSMaxPerUser, WSMaxPerAddr: cfg.WSMaxPerAddr,
		App: web.App(),
	})
	a.srv = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// URL is where the server listens, as a client on this machine reaches it
// (http://127.0.0.1:PORT when it listens on every interface).
func (a *App) URL() string {
	addr := a.ln.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host).IsUnspecified() {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return "http://" + addr
}

// Run serves until ctx ends, Shutdown is called or the server fails. Then
// it stops, within Config.ShutdownGrace: the listener and in-flight
// requests first (their events still reach the hub), then the sockets —
// each sent what was committed and a 1001 close — then the job queue, then
// the hub's and the janitor's loops; last it closes the database and
// Redis. It returns the server's error, if it failed.
func (a *App) Run(ctx context.Context) error {
	defer close(a.done)
	defer a.close()
	a.hooks.Start(a.svc)
	if err := a.queue.Start(context.WithoutCancel(ctx), a.svc); err != nil {
		return err
	}
	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoops()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.hub.Run(loops); err != nil {
			a.logger.Error("realtime hub stopped", "err", err)
		}
	})
	wg.Go(func() { a.janitor(loops) })
	wg.Go(func() {
		a.svc.RecordTokenUses(loops, func(err error) { a.logger.Warn("api tokens: last_used_at not written", "err", err) })
	})
	wg.Go(func() {
		a.svc.DispatchWebhooks(loops, func(err error) { a.logger.Warn("webhooks: events not dispatched yet", "err", err) })
	})
	if a.pprof != nil {
		wg.Go(a.pprof.serve)
	}
	served := make(chan error, 1)
	go func() { served <- a.srv.Serve(a.ln) }() // ended by srv.Shutdown below
	a.logger.Info("taskwire started", "addr", a.ln.Addr().String(), "database", a.cfg.DatabaseURL, "version", Version())

	var failed error
	select {
	case failed = <-served:
	case <-ctx.Done():
	case <-a.quit:
	}
	a.logger.Info("shutting down", "grace", a.cfg.ShutdownGrace)
	grace, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	var incomplete error
	if failed == nil {
		incomplete = a.srv.Shutdown(grace)
		<-served
	}
	if err := a.hub.Shutdown(grace); err != nil {
		incomplete = errors.Join(incomplete, fmt.Errorf("sockets: %w", err))
	}
	if err := a.queue.Stop(grace); err != nil {
		incomplete = errors.Join(incomplete, fmt.Errorf("jobs: %w", err))
	}
	if a.pprof != nil {
		a.pprof.close()
	}
	stopLoops()
	wg.Wait()
	if incomplete != nil {
		a.logger.Warn("shutdown incomplete", "err", incomplete)
	}
	a.logger.Info("stopped")
	return failed
}

// Shutdown asks Run to stop and waits until it has, or ctx ends.
func (a *App) Shutdown(ctx context.Context) error {
	a.quitOnce.Do(func() { close(a.quit) })
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases what New opened, for an App that is not Run (Run releases
// them itself).
func (a *App) Close() { a.close() }

func (a *App) close() {
	a.closeOnce.Do(func() {
		if a.ln != nil {
			a.ln.Close()
		}
		if a.pprof != nil {
			a.pprof.close()
		}
		if a.egress != nil {
			a.egress.Close()
		}
		if a.jobPool != nil {
			a.jobPool.Close()
		}
		if a.db != nil {
			a.db.Close()
		}
		if a.redis != nil {
			a.redis.Close()
		}
	})
}

// Handler is the HTTP API's handler, for a test that serves it on a
// listener of its own.
func (a *App) Handler() http.Handler { return a.srv.Handler }

// Registry holds the server's metrics, as /metrics serves them.
func (a *App) Registry() prometheus.Gatherer { return a.reg }

// Store, Service, Hub and Tokens expose the parts of the graph that tests
// reach past the HTTP API (to arrange state or sign test tokens).
func (a *App) Store() *sqlstore.DB        { return a.db }
func (a *App) Service() *taskwire.Service { return a.svc }
func (a *App) Hub() *realtime.Hub         { return a.hub }
func (a *App) Tokens() *auth.Tokens       { return a.tokens }

// janitor prunes expired rows every minute until ctx ends.
func (a *App) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		n, err := a.db.Prune(ctx, sqlstore.PrunePolicy{
			IdempotencyTTL: taskwire.IdempotencyTTL,
			EventAge:       a.cfg.RetentionAge,
			EventCount:     a.cfg.RetentionCount,
		})
		if err != nil && ctx.Err() == nil {
			a.logger.Error("prune failed", "err", err)
		} else if n > 0 {
			a.logger.Info("pruned expired rows", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// instanceID names this process among the instances sharing a broker.
func instanceID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
