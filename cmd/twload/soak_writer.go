package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// rest is the writers' REST client; it records every response.
type rest struct {
	base  string
	http  *http.Client
	stats *reqStats
}

// want sends a request as u and records its status under op: statuses in
// expect are expected (2xx: success; 4xx: a refusal the request provoked on
// purpose), any other status fails the soak. A 401 logs in again and
// retries once. into receives a 2xx or 410 body. It returns the response
// headers, and an error for a status not expected.
func (r *rest) want(ctx context.Context, u *soakUser, op, method, path string, body any, hdr http.Header, into any, expect ...int) (http.Header, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+u.token())
		for k, v := range hdr {
			req.Header[k] = v
		}
		start := time.Now()
		res, err := r.http.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.stats.record(op, 0, false, time.Since(start), err.Error())
			}
			return nil, err
		}
		resBody, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		if err != nil {
			r.stats.record(op, 0, false, took, err.Error())
			return nil, err
		}
		if res.StatusCode == http.StatusUnauthorized && attempt == 0 && !slices.Contains(expect, 401) {
			r.stats.record(op, 401, true, took, "")
			if err := u.relogin(ctx, r); err != nil {
				return nil, err
			}
			continue
		}
		ok := slices.Contains(expect, res.StatusCode)
		msg := ""
		if !ok {
			msg = fmt.Sprintf("%s %s: status %d: %s", method, path, res.StatusCode, bytes.TrimSpace(resBody))
		}
		r.stats.record(op, res.StatusCode, ok, took, msg)
		if !ok {
			return res.Header, errors.New(msg)
		}
		if into != nil && res.StatusCode/100 == 2 {
			if err := json.Unmarshal(resBody, into); err != nil {
				return res.Header, fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
		if into != nil && res.StatusCode == http.StatusGone {
			json.Unmarshal(resBody, into)
		}
		return res.Header, nil
	}
}

// reqStats counts responses by operation.
type reqStats struct {
	mu  sync.Mutex // guards ops
	ops map[string]*opStats
}

type opStats struct {
	byStatus   map[int]int // 0: no response (transport error)
	unexpected map[int]int
	lat        []time.Duration
	firstErr   string
}

func (s *reqStats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.ops)
}

func (s *reqStats) record(op string, status int, expected bool, took time.Duration, errMsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[op]
	if o == nil {
		o = &opStats{byStatus: map[int]int{}, unexpected: map[int]int{}}
		s.ops[op] = o
	}
	o.byStatus[status]++
	if !expected {
		o.unexpected[status]++
		if o.firstErr == "" {
			o.firstErr = errMsg
		}
	}
	o.lat = append(o.lat, took)
}

// total returns the number of responses and of failures so far.
func (s *reqStats) total() (n, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.ops {
		for _, c := range o.byStatus {
			n += c
		}
		for _, c := range o.unexpected {
			bad += c
		}
	}
	return n, bad
}

// writer is one REST user. It changes only the tasks it created, so every
// status it gets is predictable: 412 and 400 come only from the requests
// that provoke them.
type writer struct {
	u       *soakUser
	own     int64 // the project it owns
	guest   *soakUser
	guestIn bool
	tasks   []*wtask
	cursor  map[int64]int64 // project -> last event seq read over REST
	rng     *rand.Rand
}

type wtask struct {
	id, project int64
	status      string
	etag, stale string // current ETag; one the task had before
}

var statuses = []string{"todo", "in_progress", "done"}

// taskBody is the part of a task the writer reads.
type taskBody struct {
	ID         int64
	Status     string
	AssigneeID *int64 `json:"assignee_id"`
}

// maxTasks bounds each writer's live tasks: creating more deletes one.
const maxTasks = 30

func (wr *writer) run(ctx, loadCtx context.Context, api *rest, w *soakWorld, tick <-chan time.Time) {
	ops := []struct {
		weight int
		do     func(context.Context, *rest, *soakWorld) error
	}{
		{18, wr.create}, {18, wr.patchStatus}, {12, wr.update}, {10, wr.assign},
		{3, wr.staleUpdate}, {5, wr.member}, {6, wr.delete}, {8, wr.list},
		{8, wr.events}, {6, wr.notifications}, {6, wr.get},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for loadCtx.Err() == nil {
		if tick != nil {
			select {
			case <-tick:
			case <-loadCtx.Done():
				return
			}
		}
		// A request runs to its end after the load ends, so the tail check
		// sees every event it committed.
		n := wr.rng.IntN(total)
		for _, o := range ops {
			if n -= o.weight; n < 0 {
				o.do(ctx, api, w)
				break
			}
		}
	}
}

func (wr *writer) pick() *wtask {
	if len(wr.tasks) == 0 {
		return nil
	}
	return wr.tasks[wr.rng.IntN(len(wr.tasks))]
}

// other returns a member of every project other than the writer, as an
// assignee that gets notified.
func (wr *writer) other(w *soakWorld) int64 {
	for {
		if id := w.members[wr.rng.IntN(len(w.members))]; id != wr.u.id {
			return id
		}
	}
}

func (wr *writer) keep(t *wtask, h http.Header) {
	if e := h.Get("ETag"); e != "" && e != t.etag {
		t.stale, t.etag = t.etag, e
	}
}

func (wr *writer) create(ctx context.Context, api *rest, w *soakWorld) error {
	if len(wr.tasks) >= maxTasks {
		return wr.delete(ctx, api, w)
	}
	p := w.projects[wr.rng.IntN(len(w.projects))]
	body := map[string]any{"title": fmt.Sprintf("soak %d", wr.rng.Int64()), "description": "soak"}
	if wr.rng.IntN(2) == 0 {
		body["assignee_id"] = wr.other(w)
	}
	path := fmt.Sprintf("/api/v1/projects/%d/tasks", p)
	var t taskBody
	if wr.rng.IntN(10) > 0 {
		h, err := api.want(ctx, wr.u, "POST task", "POST", path, body, nil, &t, 201)
		if err == nil {
			wr.add(t, p, h)
		}
		return err
	}
	// An idempotent create sent twice: the retry must answer the same task.
	key := http.Header{"Idempotency-Key": {fmt.Sprintf("soak-%d", wr.rng.Int64())}}
	h, err := api.want(ctx, wr.u, "POST task (idempotent)", "POST", path, body, key, &t, 201)
	if err != nil {
		return err
	}
	wr.add(t, p, h)
	var again taskBody
	if _, err := api.want(ctx, wr.u, "POST task (idempotent retry)", "POST", path, body, key, &again, 201); err != nil {
		return err
	}
	if again.ID != t.ID {
		api.stats.record("POST task (idempotent retry)", 201, false, 0, fmt.Sprintf("retry answered task %d, first answer was %d", again.ID, t.ID))
	}
	return nil
}

func (wr *writer) add(t taskBody, project int64, h http.Header) {
	wt := &wtask{id: t.ID, project: project, status: t.Status}
	wr.keep(wt, h)
	wr.tasks = append(wr.tasks, wt)
}

func (wr *writer) patchStatus(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil {
		return wr.create(ctx, api, w)
	}
	next := statuses[(slices.Index(statuses, t.status)+1+wr.rng.IntN(2))%len(statuses)]
	h, err := api.want(ctx, wr.u, "PATCH status", "PATCH", fmt.Sprintf("/api/v1/tasks/%d/status", t.id), map[string]string{"status": next}, nil, nil, 200)
	if err == nil {
		t.status = next
		wr.keep(t, h)
	}
	return err
}

// update changes title and description with PUT and the current ETag in
// If-Match.
func (wr *writer) update(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil {
		return wr.create(ctx, api, w)
	}
	body := map[string]any{"title": fmt.Sprintf("soak %d", wr.rng.Int64()), "description": fmt.Sprintf("rev %d", wr.rng.Int64())}
	h, err := api.want(ctx, wr.u, "PUT task", "PUT", fmt.Sprintf("/api/v1/tasks/%d", t.id), body, http.Header{"If-Match": {t.etag}}, nil, 200)
	if err == nil {
		wr.keep(t, h)
	}
	return err
}

// staleUpdate sends an ETag the task no longer has: the answer must be 412.
func (wr *writer) staleUpdate(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil || t.stale == "" {
		return wr.update(ctx, api, w)
	}
	_, err := api.want(ctx, wr.u, "PUT task (stale If-Match)", "PUT", fmt.Sprintf("/api/v1/tasks/%d", t.id), map[string]string{"title": "lost update"}, http.Header{"If-Match": {t.stale}}, nil, 412)
	return err
}

func (wr *writer) assign(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil {
		return wr.create(ctx, api, w)
	}
	var to any // null: unassign
	op := "PUT unassign"
	if wr.rng.IntN(3) > 0 {
		to, op = wr.other(w), "PUT assign"
	}
	h, err := api.want(ctx, wr.u, op, "PUT", fmt.Sprintf("/api/v1/tasks/%d", t.id), map[string]any{"assignee_id": to}, nil, nil, 200)
	if err == nil {
		wr.keep(t, h)
	}
	return err
}

// member adds the writer's guest to its project or removes it; now and
// then it adds the guest twice, which must answer 400.
func (wr *writer) member(ctx context.Context, api *rest, _ *soakWorld) error {
	path := fmt.Sprintf("/api/v1/projects/%d/members", wr.own)
	add := map[string]int64{"user_id": wr.guest.id}
	switch {
	case !wr.guestIn:
		_, err := api.want(ctx, wr.u, "POST member", "POST", path, add, nil, nil, 201)
		wr.guestIn = err == nil
		return err
	case wr.rng.IntN(4) == 0:
		_, err := api.want(ctx, wr.u, "POST member (already one)", "POST", path, add, nil, nil, 400)
		return err
	default:
		_, err := api.want(ctx, wr.u, "DELETE member", "DELETE", fmt.Sprintf("%s/%d", path, wr.guest.id), nil, nil, nil, 204)
		wr.guestIn = err != nil
		return err
	}
}

func (wr *writer) delete(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil {
		return wr.create(ctx, api, w)
	}
	_, err := api.want(ctx, wr.u, "DELETE task", "DELETE", fmt.Sprintf("/api/v1/tasks/%d", t.id), nil, nil, nil, 204)
	if err == nil {
		wr.tasks = slices.DeleteFunc(wr.tasks, func(o *wtask) bool { return o == t })
	}
	return err
}

func (wr *writer) get(ctx context.Context, api *rest, w *soakWorld) error {
	t := wr.pick()
	if t == nil {
		return wr.list(ctx, api, w)
	}
	var got taskBody
	h, err := api.want(ctx, wr.u, "GET task", "GET", fmt.Sprintf("/api/v1/tasks/%d", t.id), nil, nil, &got, 200)
	if err == nil {
		wr.keep(t, h)
	}
	return err
}

func (wr *writer) list(ctx context.Context, api *rest, w *soakWorld) error {
	p := w.projects[wr.rng.IntN(len(w.projects))]
	q := "?limit=50"
	if wr.rng.IntN(2) == 0 {
		q += "&status=" + statuses[wr.rng.IntN(len(statuses))]
	}
	_, err := api.want(ctx, wr.u, "GET tasks", "GET", fmt.Sprintf("/api/v1/projects/%d/tasks%s", p, q), nil, nil, nil, 200)
	return err
}

// events reads a project's log after the writer's cursor; 410 (the cursor
// fell out of retention) moves the cursor to the oldest event kept.
func (wr *writer) events(ctx context.Context, api *rest, w *soakWorld) error {
	p := w.projects[wr.rng.IntN(len(w.projects))]
	var es []struct{ Seq int64 }
	var gone struct {
		OldestSeq int64 `json:"oldest_seq"`
	}
	path := fmt.Sprintf("/api/v1/projects/%d/events?since=%d&limit=100", p, wr.cursor[p])
	var raw json.RawMessage
	if _, err := api.want(ctx, wr.u, "GET events", "GET", path, nil, nil, &raw, 200, 410); err != nil {
		return err
	}
	if json.Unmarshal(raw, &es) == nil {
		if len(es) > 0 {
			wr.cursor[p] = es[len(es)-1].Seq
		}
	} else if json.Unmarshal(raw, &gone) == nil && gone.OldestSeq > 0 {
		wr.cursor[p] = gone.OldestSeq - 1
	}
	return nil
}

// notifications reads the unread inbox and marks one, or all, read.
func (wr *writer) notifications(ctx context.Context, api *rest, _ *soakWorld) error {
	var ns []struct{ ID int64 }
	if _, err := api.want(ctx, wr.u, "GET notifications", "GET", "/api/v1/notifications?unread=true&limit=20", nil, nil, &ns, 200); err != nil || len(ns) == 0 {
		return err
	}
	if wr.rng.IntN(3) == 0 {
		_, err := api.want(ctx, wr.u, "POST read-all", "POST", "/api/v1/notifications/read-all", nil, nil, nil, 200)
		return err
	}
	_, err := api.want(ctx, wr.u, "POST read", "POST", fmt.Sprintf("/api/v1/notifications/%d/read", ns[0].ID), nil, nil, nil, 200)
	return err
}
