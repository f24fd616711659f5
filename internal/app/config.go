package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/sqlstore"
)

// Config is every setting, read from the environment and overridden by
// flags (LoadConfig); New builds the application from it.
type Config struct {
	Addr             string
	Database         sqlstore.Target
	DatabaseURL      string
	JWTSecret        string
	JWTTTL           time.Duration
	BcryptCost       int
	CORSOrigins      []string
	AuthRate         auth.Rate
	TrustProxy       bool
	LogFormat        string
	LogLevel         string
	RetentionAge     time.Duration
	RetentionCount   int64
	ShutdownGrace    time.Duration
	RedocScriptURL   string
	SQLiteSync       string
	WSQueueMessages  int
	WSQueueBytes     int
	WSPingInterval   time.Duration
	WSPongTimeout    time.Duration
	WSHeartbeat      time.Duration
	WSWriteTimeout   time.Duration
	WSMaxPerUser     int
	WSMaxPerAddr     int
	PprofAddr        string
	RedisURL         string
	RedisPrefix      string
	DBMaxConns       int
	DBWriters        int
	SMTPURL          string
	MailFrom         string
	BaseURL          string
	EmailDebounce    time.Duration
	ReminderLead     time.Duration
	InvitationTTL    time.Duration
	EmailMaxAttempts int
	EmailRetryBase   time.Duration
	WSReconcile      time.Duration

	WebhookTimeout      time.Duration
	WebhookRetryBase    time.Duration
	WebhookMaxAttempts  int
	WebhookWorkers      int
	WebhookAllowPrivate bool
	WSIO                string
}

// setting is one configuration entry: its variable, flag, default and
// parser. The table is the single source for parsing, --help and the README.
type setting struct {
	env, flag, def, help string
	set                  func(c *Config, v string) error
}

var settings = []setting{
	{"PORT", "", "8080", "TCP port to listen on (all interfaces)", func(c *Config, v string) error {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return errors.New("want a port number 0–65535")
		}
		c.Addr = ":" + v
		return nil
	}},
	{"ADDR", "addr", "", "listen address host:port; overrides PORT", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if !strings.Contains(v, ":") {
			return errors.New("want host:port, such as 127.0.0.1:8080 or :8080")
		}
		c.Addr = v
		return nil
	}},
	{"DATABASE_URL", "database-url", "sqlite:///./taskwire.db", "sqlite:///rel.db, sqlite:////abs.db, a file path, or postgres://", func(c *Config, v string) error {
		t, err := sqlstore.ParseURL(v)
		if err != nil {
			return err
		}
		c.Database, c.DatabaseURL = t, v
		return nil
	}},
	{"JWT_SECRET", "jwt-secret", "", "token signing secret (≥32 bytes); empty: generated once and kept beside the SQLite file (required with PostgreSQL: every instance must share it)", func(c *Config, v string) error {
		if v != "" && len(v) < auth.MinSecretLen {
			return fmt.Errorf("must be at least %d bytes", auth.MinSecretLen)
		}
		if v == "" && c.Database.Dialect == "postgres" {
			return errors.New("is required with a PostgreSQL DATABASE_URL (instances must share it)")
		}
		c.JWTSecret = v
		return nil
	}},
	{"DB_MAX_CONNS", "db-max-conns", "0", "PostgreSQL connection pool size per instance (0: 4 per CPU, at least 8)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a non-negative integer")
		}
		c.DBMaxConns = n
		return nil
	}},
	{"DB_WRITERS", "db-writers", "4", "PostgreSQL: units of work committed in parallel batches, one connection each; one project's changes always share one writer (SQLite has one)", intSetting(func(c *Config) *int { return &c.DBWriters })},
	{"JWT_TTL", "jwt-ttl", "168h", "access token lifetime", durationSetting(func(c *Config) *time.Duration { return &c.JWTTTL })},
	{"BCRYPT_COST", "bcrypt-cost", "12", "bcrypt cost for new passwords (4–31)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 31 {
			return errors.New("want an integer 4–31")
		}
		c.BcryptCost = n
		return nil
	}},
	{"CORS_ORIGINS", "cors-origins", "*", "comma-separated allowed browser origins; * allows any (without credentials)", func(c *Config, v string) error {
		c.CORSOrigins = nil
		for o := range strings.SplitSeq(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
					return fmt.Errorf("origin %q must start with http:// or https://", o)
				}
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
		return nil
	}},
	{"RATE_LIMIT_AUTH", "rate-limit-auth", "5/minute", "signup and login requests per client address, each route separately", func(c *Config, v string) error {
		r, err := auth.ParseRate(v)
		c.AuthRate = r
		return err
	}},
	{"TRUST_PROXY", "trust-proxy", "false", "take the client address from X-Forwarded-For (behind a proxy you run)", boolSetting(func(c *Config) *bool { return &c.TrustProxy })},
	{"LOG_FORMAT", "log-format", "", "text or json; empty: text on a terminal, json otherwise", func(c *Config, v string) error {
		if v != "" && v != "text" && v != "json" {
			return errors.New("want text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error (request lines are info)", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("want debug, info, warn or error")
	}},
	{"EVENT_RETENTION_AGE", "event-retention-age", "720h", "how long events stay readable for resume", durationSetting(func(c *Config) *time.Duration { return &c.RetentionAge })},
	{"EVENT_RETENTION_COUNT", "event-retention-count", "10000", "events kept readable per project", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errors.New("want a positive integer")
		}
		c.RetentionCount = n
		return nil
	}},
	{"SHUTDOWN_GRACE", "shutdown-grace", "10s", "time to finish requests and flush sockets on SIGTERM/SIGINT", durationSetting(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
	{"REDOC_SCRIPT_URL", "redoc-script-url", "/app/vendor/redoc.standalone.js", "where /redoc loads ReDoc from (the default is embedded in the binary: works offline)", func(c *Config, v string) error {
		c.RedocScriptURL = v
		return nil
	}},
	{"SQLITE_SYNCHRONOUS", "sqlite-synchronous", "FULL", "FULL: every commit survives power loss; NORMAL: faster, the last commits may not", func(c *Config, v string) error {
		v = strings.ToUpper(v)
		if v != "FULL" && v != "NORMAL" {
			return errors.New("want FULL or NORMAL")
		}
		c.SQLiteSync = v
		return nil
	}},
	{"WS_QUEUE_MESSAGES", "ws-queue-messages", "1024", "events a socket may fall behind before it is closed with 4408", intSetting(func(c *Config) *int { return &c.WSQueueMessages })},
	{"WS_QUEUE_BYTES", "ws-queue-bytes", "4194304", "bytes a socket may fall behind before it is closed with 4408", intSetting(func(c *Config) *int { return &c.WSQueueBytes })},
	{"WS_PING_INTERVAL", "ws-ping-interval", "25s", "WebSocket ping interval", durationSetting(func(c *Config) *time.Duration { return &c.WSPingInterval })},
	{"WS_PONG_TIMEOUT", "ws-pong-timeout", "10s", "time a client has to answer a ping", durationSetting(func(c *Config) *time.Duration { return &c.WSPongTimeout })},
	{"WS_HEARTBEAT_INTERVAL", "ws-heartbeat-interval", "20s", "how often a protocol 2 socket is sent a heartbeat with the seq it has been sent everything up to", durationSetting(func(c *Config) *time.Duration { return &c.WSHeartbeat })},
	{"WS_WRITE_TIMEOUT", "ws-write-timeout", "10s", "time one write to a socket may take", durationSetting(func(c *Config) *time.Duration { return &c.WSWriteTimeout })},
	{"WS_RECONCILE_INTERVAL", "ws-reconcile-interval", "1s", "how often each active room is compared with the event log, to deliver events whose publish was lost", durationSetting(func(c *Config) *time.Duration { return &c.WSReconcile })},
	{"WS_MAX_PER_USER", "ws-max-per-user", "20", "open WebSockets one user may hold on this instance (project and notification sockets together); more are refused with 429; 0: unlimited", limitSetting(func(c *Config) *int { return &c.WSMaxPerUser })},
	{"WS_MAX_PER_ADDR", "ws-max-per-addr", "200", "open WebSockets one client address may hold on this instance (the address as TRUST_PROXY decides); more are refused with 429; 0: unlimited", limitSetting(func(c *Config) *int { return &c.WSMaxPerAddr })},
	{"WS_IO", "ws-io", "auto", "how sockets are written: uring (batched io_uring sends, Linux; start fails if io_uring is not usable), writev (one system call per socket), auto (uring when usable and at least 7,500 sockets are being written at once — a large room's fan-out —, else writev)", func(c *Config, v string) error {
		v = strings.ToLower(v)
		if v != "auto" && v != "uring" && v != "writev" {
			return errors.New("want auto, uring or writev")
		}
		c.WSIO = v
		return nil
	}},
	{"PPROF_ADDR", "pprof-addr", "", "serve net/http/pprof on this address (such as 127.0.0.1:6060); empty: off", func(c *Config, v string) error {
		if v != "" && !strings.Contains(v, ":") {
			return errors.New("want host:port")
		}
		c.PprofAddr = v
		return nil
	}},
	{"REDIS_URL", "redis-url", "", "Redis for several instances: fan-out, presence and auth rate limits shared (redis://[user:pass@]host:port/db); empty: one instance, in memory", func(c *Config, v string) error {
		if v == "" {
			c.RedisURL = ""
			return nil
		}
		if _, err := redis.ParseURL(v); err != nil {
			return errors.New("want redis://[user:pass@]host:port[/db] or rediss:// with the same form")
		}
		c.RedisURL = v
		return nil
	}},
	{"REDIS_PREFIX", "redis-prefix", "taskwire:", "prefix of Taskwire's Redis keys and channels", func(c *Config, v string) error {
		c.RedisPrefix = v
		return nil
	}},
	{"SMTP_URL", "smtp-url", "", "SMTP server for email: smtp://[user:pass@]host:port[?starttls=required|none], smtps://...; empty: emails are written to the log", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "smtp://") && !strings.HasPrefix(v, "smtps://") {
			return errors.New("want smtp://[user:pass@]host:port or smtps://[user:pass@]host:port")
		}
		c.SMTPURL = v
		return nil
	}},
	{"MAIL_FROM", "mail-from", "Taskwire <taskwire@localhost>", "sender of emails", func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("want an address such as Taskwire <noreply@example.com>")
		}
		c.MailFrom = v
		return nil
	}},
	{"BASE_URL", "base-url", "http://localhost:8080", "where links in emails point", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("want an http(s) URL")
		}
		c.BaseURL = v
		return nil
	}},
	{"EMAIL_DEBOUNCE", "email-debounce", "10s", "delay before an assignment email; a task reassigned within it emails only the last assignee",
		zeroableDuration("want a duration such as 10s (0 sends at once)", func(c *Config) *time.Duration { return &c.EmailDebounce })},
	{"REMINDER_LEAD", "reminder-lead", "24h", "how long before a task is due its assignee is reminded (in the app and by email)",
		zeroableDuration("want a duration such as 24h (0 reminds when the task is due)", func(c *Config) *time.Duration { return &c.ReminderLead })},
	{"INVITATION_TTL", "invitation-ttl", "168h", "how long an invitation's link can be accepted",
		durationSetting(func(c *Config) *time.Duration { return &c.InvitationTTL })},
	{"EMAIL_MAX_ATTEMPTS", "email-max-attempts", "10", "delivery attempts before an email is kept as failed", intSetting(func(c *Config) *int { return &c.EmailMaxAttempts })},
	{"EMAIL_RETRY_BASE", "email-retry-base", "10s", "delay before the first retry of an email; each next one doubles, up to an hour", durationSetting(func(c *Config) *time.Duration { return &c.EmailRetryBase })},
	{"WEBHOOK_TIMEOUT", "webhook-timeout", "10s", "time a webhook receiver has to answer one delivery (at most 30s)", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 30*time.Second {
			return errors.New("want a positive duration of at most 30s, such as 10s")
		}
		c.WebhookTimeout = d
		return nil
	}},
	{"WEBHOOK_RETRY_BASE", "webhook-retry-base", "5s", "delay before the first retry of a webhook delivery; each next one doubles, up to an hour", durationSetting(func(c *Config) *time.Duration { return &c.WebhookRetryBase })},
	{"WEBHOOK_MAX_ATTEMPTS", "webhook-max-attempts", "8", "attempts of one webhook delivery before it is given up", intSetting(func(c *Config) *int { return &c.WebhookMaxAttempts })},
	{"WEBHOOK_WORKERS", "webhook-workers", "16", "webhook deliveries sent at once by an instance; one webhook gets at most half of them", intSetting(func(c *Config) *int { return &c.WebhookWorkers })},
	{"WEBHOOK_ALLOW_PRIVATE", "webhook-allow-private", "false", "let webhooks post to loopback, private and other non-public addresses (tests, intranets only)", boolSetting(func(c *Config) *bool { return &c.WebhookAllowPrivate })},
}

// zeroableDuration parses a duration of 0 or more for a field whose
// consumer reads 0 as "its default": an explicit 0 is stored as -1.
func zeroableDuration(msg string, field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New(msg)
		}
		if d == 0 {
			d = -1
		}
		*field(c) = d
		return nil
	}
}

func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 30s, 15m or 168h")
		}
		*field(c) = d
		return nil
	}
}

func intSetting(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("want a positive integer")
		}
		*field(c) = n
		return nil
	}
}

// limitSetting reads a limit where 0 means unlimited.
func limitSetting(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a non-negative integer (0: unlimited)")
		}
		*field(c) = n
		return nil
	}
}

func boolSetting(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*field(c) = b
		return nil
	}
}

// LoadConfig reads the environment, then the flags in args. The first bad
// value stops it with an error naming the variable.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("taskwire serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := map[string]*string{}
	for _, s := range settings {
		if s.flag != "" {
			flags[s.env] = fs.String(s.flag, "", s.help+" (env "+s.env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var c Config
	for _, s := range settings {
		v, src := s.def, s.env
		if e := getenv(s.env); e != "" {
			v = e
		}
		if s.flag != "" && set[s.flag] {
			v, src = *flags[s.env], "--"+s.flag
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("config: %s=%q: %v", src, v, err)
		}
	}
	return c, nil
}
