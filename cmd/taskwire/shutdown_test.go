package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/realtime"
)

// TestSIGTERMFlushesSockets runs the real binary with several sockets open
// on a project and events committed that their clients have not read yet
// (megabytes: more than the TCP buffers hold), then sends SIGTERM. Every
// socket must still be sent every event and then a 1001 close, and the
// process must exit 0 within SHUTDOWN_GRACE.
func TestSIGTERMFlushesSockets(t *testing.T) {
	bin := buildBinary(t)
	const grace = 20 * time.Second
	env := baseEnv(t)
	env["SHUTDOWN_GRACE"] = grace.String()
	// The clients are slow, not too slow: no 4408 for them, and a write
	// blocked since the tasks were created waits for them to read.
	env["WS_QUEUE_MESSAGES"] = "4096"
	env["WS_QUEUE_BYTES"] = strconv.Itoa(256 << 20)
	env["WS_WRITE_TIMEOUT"] = "1m"
	p := startProc(t, bin, env)
	c := client{t: t, base: p.URL}
	_, owner := c.signupLogin("owner")
	memberID, member := c.signupLogin("member")
	pid := itoa(c.call("POST", "/api/v1/projects/", owner, map[string]string{"name": "Launch"}, 201)["id"])
	c.call("POST", "/api/v1/projects/"+pid+"/members", owner, map[string]any{"user_id": memberID}, 201)

	ctx, cancel := context.WithTimeout(context.Background(), 2*grace)
	defer cancel()
	base := strings.Replace(p.URL, "http", "ws", 1) + "/ws/projects/" + pid + "?token="
	start := eventSeq(t, p.URL, owner, pid)
	sockets := []struct {
		name  string
		url   string
		after int64
	}{
		{"protocol 1", base + owner, start},
		{"protocol 2", base + owner + "&v=2", start},
		{"resumed from 0", base + member + "&since=0", 0},
	}
	conns := make([]*websocket.Conn, len(sockets))
	for i, s := range sockets {
		ws, _, err := websocket.Dial(ctx, s.url, nil)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		ws.SetReadLimit(1 << 20)
		defer ws.CloseNow()
		conns[i] = ws
	}

	// Big events, and nobody reads: the server is left holding most of them.
	const tasks = 400
	desc := strings.Repeat("x", 20000)
	for i := range tasks {
		c.call("POST", "/api/v1/projects/"+pid+"/tasks", owner, map[string]string{"title": fmt.Sprint("t", i), "description": desc}, 201)
	}
	last := eventSeq(t, p.URL, owner, pid)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	// The clients are slow to start reading: until the process has exited,
	// or a second has passed. A server that exits without flushing has
	// lost the rest by then.
	select {
	case <-p.exited:
	case <-time.After(time.Second):
	}
	type result struct {
		seqs  []int64
		code  websocket.StatusCode
		err   error
		ahead []string
	}
	results := make([]chan result, len(conns))
	for i, ws := range conns {
		results[i] = make(chan result, 1)
		go func() {
			var r result
			for {
				_, msg, err := ws.Read(ctx)
				if err != nil {
					r.code, r.err = websocket.CloseStatus(err), err
					results[i] <- r
					return
				}
				var ev struct {
					Event string `json:"event"`
					Seq   int64  `json:"seq"`
				}
				_ = json.Unmarshal(msg, &ev)
				switch {
				case control(ev.Event):
					if n := len(r.seqs); n > 0 && ev.Seq > r.seqs[n-1] {
						r.ahead = append(r.ahead, fmt.Sprint(ev.Event, "#", ev.Seq))
					}
				case ev.Seq > 0:
					r.seqs = append(r.seqs, ev.Seq)
				}
			}
		}()
	}
	for i, s := range sockets {
		r := <-results[i]
		if problem := rangeProblem(r.seqs, s.after, last); problem != "" || r.code != realtime.CloseGoingAway {
			t.Errorf("%s: received %d events (%s), then %v (close %d); want seqs %d..%d and close 1001",
				s.name, len(r.seqs), problem, r.err, r.code, s.after+1, last)
		}
		if len(r.ahead) > 0 {
			t.Errorf("%s: caught_up/heartbeat ahead of the events: %v", s.name, r.ahead)
		}
	}

	select {
	case <-p.exited:
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("still running %v after SIGTERM", time.Since(signalled))
	}
	if took := time.Since(signalled); took > grace {
		t.Errorf("exited %v after SIGTERM, more than SHUTDOWN_GRACE (%v)", took, grace)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "shutdown incomplete") {
		t.Errorf("the shutdown was not clean:\n%s", p.stderr)
	}
}

// eventSeq reads a project's newest event seq (X-Event-Seq).
func eventSeq(t *testing.T, base, token, pid string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/projects/"+pid, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	seq, err := strconv.ParseInt(res.Header.Get("X-Event-Seq"), 10, 64)
	if res.StatusCode != http.StatusOK || err != nil {
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		t.Fatalf("GET project: %d %q %s", res.StatusCode, res.Header.Get("X-Event-Seq"), body.String())
	}
	return seq
}

// rangeProblem describes how seqs differ from after+1..last, or returns "".
func rangeProblem(seqs []int64, after, last int64) string {
	for i, s := range seqs {
		if s != after+1+int64(i) {
			return fmt.Sprintf("seq %d where %d was due", s, after+1+int64(i))
		}
	}
	if got := after + int64(len(seqs)); got != last {
		return fmt.Sprintf("the last was %d", got)
	}
	return ""
}
