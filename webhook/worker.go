package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/egress"
)

// Recorder is what the worker asks of the domain: where a delivery goes,
// and to keep the log of its attempts. The Service is one.
type Recorder interface {
	// WebhookTarget answers false when the webhook is gone or disabled.
	WebhookTarget(ctx context.Context, webhookID int64) (taskwire.WebhookTarget, bool, error)
	// RecordWebhookAttempt reports whether the webhook is still active.
	RecordWebhookAttempt(ctx context.Context, a taskwire.WebhookAttempt) (bool, error)
}

// Worker posts delivery jobs. At most Options.Workers run at once (the
// queue's MaxWorkers), and at most half of them for one webhook: a
// job that finds its webhook's share taken waits for a place a moment
// (fast receivers free one at once) and otherwise gives its worker back
// and tries again a second later, so that a slow receiver cannot take
// every worker.
type Worker struct {
	river.WorkerDefaults[Args]
	logger  *slog.Logger
	client  *egress.Client
	opts    Options
	perHook int

	rec   Recorder      // set by Start, before ready closes
	ready chan struct{} // closed by Start

	mu    sync.Mutex
	slots map[int64]*slot // webhook id → its share of the workers; guarded by mu
}

// slot is one webhook's share: a semaphore of perHook places, and how
// many jobs hold or wait for one (the slot is dropped at zero).
type slot struct {
	places chan struct{}
	users  int
}

// slotWait is how long a job waits for its webhook's share before it
// gives its worker back.
const slotWait = 200 * time.Millisecond

// NewWorker returns a worker that posts through client; Start gives it
// the Recorder.
func NewWorker(logger *slog.Logger, client *egress.Client, opts Options) *Worker {
	opts.defaults()
	return &Worker{
		logger: logger, client: client, opts: opts, perHook: max(1, opts.Workers/2),
		ready: make(chan struct{}), slots: map[int64]*slot{},
	}
}

// Register adds the worker to the River client's workers (notify.Queue
// works the Queue with Workers() at once).
func (w *Worker) Register(workers *river.Workers) error {
	return river.AddWorkerSafely(workers, w)
}

// Workers is the size of the River queue.
func (w *Worker) Workers() int { return w.opts.Workers }

// Start lets jobs run, asking rec about each one. It is called once,
// before the queue starts.
func (w *Worker) Start(rec Recorder) {
	w.rec = rec
	close(w.ready)
}

// Timeout implements river.Worker: an attempt ends by its own timeout
// first.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return w.opts.Timeout + 10*time.Second }

// NextRetry implements river.Worker: the delay grows from RetryBase.
func (w *Worker) NextRetry(job *river.Job[Args]) time.Time {
	return time.Now().Add(w.opts.retryDelay(job.Attempt))
}

// acquire takes a place in the webhook's share, waiting up to slotWait;
// false when none came free. A true answer must be released.
func (w *Worker) acquire(ctx context.Context, id int64) bool {
	w.mu.Lock()
	sl := w.slots[id]
	if sl == nil {
		sl = &slot{places: make(chan struct{}, w.perHook)}
		w.slots[id] = sl
	}
	sl.users++
	w.mu.Unlock()
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case sl.places <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	w.drop(id, sl)
	return false
}

// release gives back a place taken by acquire.
func (w *Worker) release(id int64) {
	w.mu.Lock()
	sl := w.slots[id]
	w.mu.Unlock()
	<-sl.places
	w.drop(id, sl)
}

// drop forgets one user of the slot, and the slot with its last one.
func (w *Worker) drop(id int64, sl *slot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sl.users--; sl.users == 0 {
		delete(w.slots, id)
	}
}

// errAttemptFailed is returned for a failed attempt: River retries the
// job, or keeps it as discarded after its last attempt.
var errAttemptFailed = errors.New("webhook: delivery failed")

// Work implements river.Worker: one attempt, logged; an error makes River
// retry the job after NextRetry, up to its MaxAttempts.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	select {
	case <-w.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	a := job.Args
	target, ok, err := w.rec.WebhookTarget(ctx, a.WebhookID)
	if err != nil {
		return err
	}
	if !ok {
		return nil // deleted or disabled since: nothing to send
	}
	if !w.acquire(ctx, a.WebhookID) {
		return river.JobSnooze(time.Second)
	}
	defer w.release(a.WebhookID)

	id := MessageID(a.ProjectID, a.Seq, a.WebhookID)
	body := Body(a.Type, a.TS, []byte(a.Event))
	now := time.Now()
	sig, err := Signatures(target.Secrets, id, now.Unix(), body)
	if err != nil {
		return river.JobCancel(err) // a broken secret does not heal
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Taskwire-Webhooks/1")
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", sig)
	res, postErr := w.client.Post(ctx, target.URL, h, body)
	if postErr != nil && ctx.Err() != nil && !errors.Is(postErr, context.DeadlineExceeded) {
		// The queue is stopping: the attempt did not happen, for all the
		// receiver knows; it runs again at the next start.
		return river.JobSnooze(0)
	}

	attempt := taskwire.WebhookAttempt{
		WebhookID: a.WebhookID, ProjectID: a.ProjectID, EventSeq: a.Seq, EventType: a.Type, Attempt: job.Attempt,
		StatusCode: res.Status, Duration: res.Duration,
	}
	if attempt.Duration == 0 {
		attempt.Duration = time.Since(now)
	}
	switch {
	case postErr != nil:
		attempt.Err = failure(postErr, w.opts.Timeout)
	case !attempt.Succeeded():
		attempt.Err = "The receiver answered " + strconv.Itoa(res.Status)
	}
	retry := attempt.Err != "" && res.Status != http.StatusGone && job.Attempt < job.MaxAttempts
	if retry {
		attempt.NextAttemptAt = time.Now().Add(w.opts.retryDelay(job.Attempt))
	}
	// The log is written even when the job's time is up.
	active, err := w.rec.RecordWebhookAttempt(context.WithoutCancel(ctx), attempt)
	if err != nil {
		return err
	}
	if attempt.Err == "" || !active || res.Status == http.StatusGone {
		return nil
	}
	w.logger.Info("webhook delivery failed", "webhook_id", a.WebhookID, "webhook-id", id,
		"attempt", job.Attempt, "status", res.Status, "err", attempt.Err, "retry", retry)
	return fmt.Errorf("%w: %s", errAttemptFailed, attempt.Err)
}

// failure says why a post failed, for the delivery log the owner reads.
func failure(err error, timeout time.Duration) string {
	var e *egress.Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "No answer within " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "The attempt was interrupted"
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
