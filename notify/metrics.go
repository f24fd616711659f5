package notify

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notification and email series on /metrics.
type metrics struct {
	sent, failed, retried, skipped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pool *sql.DB) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		sent:    counter("taskwire_emails_sent_total", "Emails accepted by the SMTP server (or logged without SMTP_URL)."),
		failed:  counter("taskwire_emails_failed_total", "Delivery attempts that failed (each is retried until MaxAttempts)."),
		retried: counter("taskwire_emails_retried_total", "Email jobs run again after a failed attempt."),
		skipped: counter("taskwire_emails_skipped_total", "Email jobs that found their email no longer due (reassigned, turned off, left)."),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.retried, m.skipped, queueCollector{pool: pool})
	}
	return m
}

// queueCollector reports River's queue from its table at each scrape.
type queueCollector struct{ pool *sql.DB }

var (
	jobsDesc = prometheus.NewDesc("taskwire_jobs", "Background jobs by state (failed ones are 'discarded').", []string{"state"}, nil)
	lagDesc  = prometheus.NewDesc("taskwire_jobs_lag_seconds", "Age of the oldest job that is due and not yet running.", nil, nil)
)

func (queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- lagDesc
}

func (q queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := q.pool.QueryContext(ctx, "SELECT state, COUNT(*) FROM river_job GROUP BY state")
	if err != nil {
		return
	}
	for rows.Next() {
		var state string
		var n float64
		if rows.Scan(&state, &n) == nil {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, n, state)
		}
	}
	rows.Close()
	var oldest any
	err = q.pool.QueryRowContext(ctx, "SELECT MIN(scheduled_at) FROM river_job WHERE state = 'available'").Scan(&oldest)
	lag := 0.0
	if err == nil {
		if t, ok := parseTime(oldest); ok {
			lag = max(0, time.Since(t).Seconds())
		}
	}
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag)
}

// parseTime reads a timestamp as either driver returns it.
func parseTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
