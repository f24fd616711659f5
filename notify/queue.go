package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/taskwire/taskwire"
)

// EmailArgs is the River job that sends one email. The fields tagged
// unique make (kind, user, task, event seq) a job's identity: a retried
// request or a replayed event never enqueues it twice.
type EmailArgs struct {
	Type      taskwire.NotificationType `json:"type" river:"unique"`
	UserID    int64                     `json:"user_id" river:"unique"`
	ProjectID int64                     `json:"project_id"`
	TaskID    int64                     `json:"task_id" river:"unique"`
	Seq       int64                     `json:"seq" river:"unique"`
	ActorID   int64                     `json:"actor_id"`
	CommentID int64                     `json:"comment_id,omitempty"`
	// DueAt is a reminder's due date: the job checks it against the task's.
	DueAt time.Time `json:"due_at,omitzero"`
	// InvitationID and Token are an invitation email's. The token is here
	// because the database keeps only its hash: it stays in the job's row
	// until River deletes the completed job (after 24 hours).
	InvitationID int64  `json:"invitation_id,omitempty" river:"unique"`
	Token        string `json:"token,omitempty"`
}

// Kind implements river.JobArgs.
func (EmailArgs) Kind() string { return "email" }

func (a EmailArgs) job() taskwire.EmailJob {
	return taskwire.EmailJob{Kind: a.Type, UserID: a.UserID, ProjectID: a.ProjectID, TaskID: a.TaskID, Seq: a.Seq, ActorID: a.ActorID, CommentID: a.CommentID, DueAt: a.DueAt,
		InvitationID: a.InvitationID, Token: a.Token}
}

// Options tune the queue. Zero fields take the defaults in brackets.
type Options struct {
	// Debounce delays each email; a task reassigned within it emails only
	// its last assignee [10s].
	Debounce time.Duration
	// MaxAttempts bounds deliveries of one email before it is kept as
	// failed [10].
	MaxAttempts int
	// RetryBase is the first retry's delay; each next one doubles, up to
	// RetryMax [10s, 1h].
	RetryBase, RetryMax time.Duration
	// Workers is how many emails are sent at once [16].
	Workers int
	// PollInterval is how often idle workers look for due jobs [500ms].
	PollInterval time.Duration
	// BaseURL prefixes links in emails.
	BaseURL string
	// Postgres selects River's database/sql driver for PostgreSQL instead
	// of its SQLite driver.
	Postgres bool
	// Kinds are other jobs the queue works besides email (webhook
	// deliveries), each on its own River queue.
	Kinds []Kind
}

// Kind is another kind of job the queue's River client works: Register
// adds its worker, which takes jobs from the River queue Queue, at most
// MaxWorkers at once.
type Kind struct {
	Queue      string
	MaxWorkers int
	// FetchCooldown is the least time between two fetches of the queue's
	// jobs while it is busy (0: the client's, PollInterval/5); each fetch
	// takes at most as many jobs as there are free workers.
	FetchCooldown time.Duration
	Register      func(*river.Workers) error
}

func (o *Options) defaults() {
	if o.Debounce < 0 {
		o.Debounce = 0
	} else if o.Debounce == 0 {
		o.Debounce = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 10 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
}

// Preparer decides whether an email is still due and what it says; the
// domain Service is one.
type Preparer interface {
	PrepareEmail(ctx context.Context, job taskwire.EmailJob) (taskwire.Email, bool, error)
}

// Queue works email jobs on River, over SQLite or PostgreSQL.
type Queue struct {
	logger  *slog.Logger
	pool    *sql.DB
	client  *river.Client[*sql.Tx]
	worker  *emailWorker
	opts    Options
	metrics *metrics
}

// New returns a queue on the database behind pool, whose River tables
// Migrate has created, that does not work jobs until Start. On SQLite, pool
// should allow a single connection: River's SQLite driver is not built for
// concurrent use of its pool.
func New(ctx context.Context, logger *slog.Logger, pool *sql.DB, mailer Mailer, reg prometheus.Registerer, opts Options) (*Queue, error) {
	opts.defaults()
	driver := DriverFor(pool, opts.Postgres)
	m := newMetrics(reg, pool)
	w := &emailWorker{logger: logger, mailer: mailer, baseURL: opts.BaseURL, metrics: m, ready: make(chan struct{})}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.Workers}}
	for _, k := range opts.Kinds {
		if err := k.Register(workers); err != nil {
			return nil, err
		}
		queues[k.Queue] = river.QueueConfig{MaxWorkers: k.MaxWorkers, FetchCooldown: k.FetchCooldown}
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues:               queues,
		Workers:              workers,
		Logger:               logger.With("component", "river"),
		MaxAttempts:          opts.MaxAttempts,
		RetryPolicy:          backoff{base: opts.RetryBase, max: opts.RetryMax},
		FetchPollInterval:    opts.PollInterval,
		FetchCooldown:        opts.PollInterval / 5,
		JobTimeout:           30 * time.Second,
		RescueStuckJobsAfter: 45 * time.Second,
		// Failed jobs stay visible (taskwire jobs, /metrics) for a week.
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Queue{logger: logger, pool: pool, client: client, worker: w, opts: opts, metrics: m}, nil
}

// DriverFor returns River's driver for the database (pool may be nil for
// an insert-only client).
func DriverFor(pool *sql.DB, postgres bool) riverdriver.Driver[*sql.Tx] {
	if postgres {
		return riverdatabasesql.New(pool)
	}
	return riversqlite.New(pool)
}

// Migrate applies River's migrations.
func Migrate(ctx context.Context, pool *sql.DB, postgres bool) error {
	migrator, err := rivermigrate.New(DriverFor(pool, postgres), nil)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("notify: migrate river: %w", err)
	}
	return nil
}

// Start works jobs until Stop, asking prep what each email says.
func (q *Queue) Start(ctx context.Context, prep Preparer) error {
	q.worker.prep = prep
	close(q.worker.ready)
	return q.client.Start(ctx)
}

// Stop finishes the jobs under way (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Jobs cut short are retried: at a restart, River rescues them.
		return q.client.StopAndCancel(context.Background())
	}
	return err
}

// Inserter puts email jobs in units of work: an insert-only River client,
// which needs no connections of its own (it inserts in the transaction it
// is given), so the store can be built with it before the queue that works
// the jobs.
type Inserter struct {
	client   *river.Client[*sql.Tx]
	debounce time.Duration
}

// NewInserter returns an Inserter for the database kind opts.Postgres
// names, scheduling each job opts.Debounce ahead. A job's attempts are
// fixed when it is inserted: opts.MaxAttempts must be the queue's.
func NewInserter(opts Options) (*Inserter, error) {
	opts.defaults()
	client, err := river.NewClient(DriverFor(nil, opts.Postgres), &river.Config{MaxAttempts: opts.MaxAttempts})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return &Inserter{client: client, debounce: opts.Debounce}, nil
}

// InsertEmailTx inserts the job in tx, scheduled after the debounce (a
// reminder: at job.At, or at once when that has passed). Its
// unique fields make a retried request or a replayed event insert it once.
func (i *Inserter) InsertEmailTx(ctx context.Context, tx *sql.Tx, job taskwire.EmailJob) error {
	args := EmailArgs{Type: job.Kind, UserID: job.UserID, ProjectID: job.ProjectID, TaskID: job.TaskID, Seq: job.Seq, ActorID: job.ActorID, CommentID: job.CommentID, DueAt: job.DueAt,
		InvitationID: job.InvitationID, Token: job.Token}
	opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if !job.At.IsZero() {
		// A job with its own time (a reminder) runs then, or at once if
		// that has passed; the debounce is for changes, not for it.
		if job.At.After(time.Now()) {
			opts.ScheduledAt = job.At
		}
	} else if i.debounce > 0 {
		// Without a debounce the job is due at once (a time of "now" would
		// land in the future of the database clock and wait for River's
		// scheduler).
		opts.ScheduledAt = time.Now().Add(i.debounce)
	}
	_, err := i.client.InsertTx(ctx, tx, args, opts)
	return err
}

// Jobs lists jobs in the given states, newest first.
func (q *Queue) Jobs(ctx context.Context, states []rivertype.JobState, n int) ([]*rivertype.JobRow, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().States(states...).First(n).OrderBy(river.JobListOrderByID, river.SortOrderDesc))
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

// emailWorker sends one email per job.
type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	logger  *slog.Logger
	mailer  Mailer
	baseURL string
	metrics *metrics
	prep    Preparer      // set by Start, before ready closes
	ready   chan struct{} // closed by Start
}

// Work implements river.Worker. An error makes River retry the job with
// backoff, up to MaxAttempts.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	<-w.ready
	if job.Attempt > 1 {
		w.metrics.retried.Inc()
	}
	e, due, err := w.prep.PrepareEmail(ctx, job.Args.job())
	if err != nil {
		return err
	}
	if !due {
		w.metrics.skipped.Inc()
		return nil
	}
	msg, err := render(e, w.baseURL, "taskwire-email-"+strconv.FormatInt(job.ID, 10)+"@taskwire")
	if err != nil {
		return river.JobCancel(err) // a broken template will not heal by retrying
	}
	if err := w.mailer.Send(ctx, msg); err != nil {
		w.metrics.failed.Inc()
		w.logger.Warn("email not delivered; will retry", "job_id", job.ID, "attempt", job.Attempt, "err", err)
		return err
	}
	w.metrics.sent.Inc()
	return nil
}

// backoff doubles the delay after each attempt: base, 2×base, ... up to max.
type backoff struct{ base, max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	exp := math.Pow(2, float64(max(0, job.Attempt-1)))
	d := time.Duration(min(float64(b.max), float64(b.base)*exp))
	return time.Now().Add(d)
}
