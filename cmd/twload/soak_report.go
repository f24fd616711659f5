package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics the soak compares, by their Prometheus names.
const (
	mGoroutines = "go_goroutines"
	mFDs        = "process_open_fds"
	mSockets    = "taskwire_realtime_sockets"
	mHeap       = "go_memstats_heap_inuse_bytes"
	mRSS        = "process_resident_memory_bytes"
	m5xx        = "5xx" // sum of taskwire_http_requests_total with a 5xx code
)

// scrape reads the series the soak compares from a Prometheus text page.
func scrape(ctx context.Context, hc *http.Client, u string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	m := map[string]float64{m5xx: 0}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		labels := ""
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, labels, rest = line[:i], line[i+1:j], strings.TrimSpace(line[j+1:])
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		switch name {
		case mGoroutines, mFDs, mSockets, mHeap, mRSS:
			if labels == "" {
				m[name] = v
			}
		case "taskwire_http_requests_total":
			if strings.Contains(labels, `code="5`) {
				m[m5xx] += v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range []string{mGoroutines, mFDs, mSockets, mRSS} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("%s: no %s", u, k)
		}
	}
	return m, nil
}

// series is the soak's readings of /metrics.
type series struct {
	start      time.Time
	scrapeErrs atomic.Int64

	mu      sync.Mutex // guards samples
	samples []sample
}

type sample struct {
	at       time.Duration
	phase    string // baseline, load or settle
	m        map[string]float64
	socksUp  int // sockets of the tool open
	requests int // responses so far
	failures int
}

func (s *series) add(phase string, m map[string]float64, up int, rs *reqStats) {
	n, bad := rs.total()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, sample{at: time.Since(s.start), phase: phase, m: m, socksUp: up, requests: n, failures: bad})
}

func (s *series) phase(p string) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, x := range s.samples {
		if x.phase == p {
			out = append(out, x)
		}
	}
	return out
}

// check is one row of the summary table.
type check struct {
	metric                string
	bytes                 bool
	baseline, peak, final float64
	limit                 string
	ok                    bool
}

func soakReport(out io.Writer, s *series, rs *reqStats, ss *sockStats, w *soakWorld, behind, down int, duration, settle time.Duration) (failed []string) {
	base, load, after := s.phase("baseline"), s.phase("load"), s.phase("settle")
	fail := func(format string, a ...any) { failed = append(failed, fmt.Sprintf(format, a...)) }
	if len(after) == 0 {
		fail("no reading of /metrics after the load")
	}

	// Time series.
	fmt.Fprintf(out, "\n/metrics readings (every %v under load, every %v while settling):\n", loadEvery, settleEvery)
	fmt.Fprintf(out, "%8s  %-8s %10s %10s %10s %6s %8s %9s %9s\n", "t", "phase", "RSS", "heap", "goroutines", "fds", "sockets", "tool up", "req/s")
	prev := sample{}
	for _, x := range slices.Concat(base, load, after) {
		rps := "-"
		if x.phase == "load" && x.at > prev.at {
			rps = fmt.Sprintf("%.0f", float64(x.requests-prev.requests)/(x.at-prev.at).Seconds())
		}
		fmt.Fprintf(out, "%8v  %-8s %10s %10s %10.0f %6.0f %8.0f %9d %9s\n", x.at.Round(time.Second), x.phase,
			mib(x.m[mRSS]), mib(x.m[mHeap]), x.m[mGoroutines], x.m[mFDs], x.m[mSockets], x.socksUp, rps)
		prev = x
	}

	// Summary table.
	median := func(k string) float64 {
		v := make([]float64, 0, len(base))
		for _, x := range base {
			v = append(v, x.m[k])
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	peak := func(k string) float64 {
		p := 0.0
		for _, x := range slices.Concat(base, load, after) {
			p = max(p, x.m[k])
		}
		return p
	}
	final := func(k string) float64 {
		if len(after) == 0 {
			return math.NaN()
		}
		return after[len(after)-1].m[k]
	}
	var checks []check
	g := median(mGoroutines)
	gl := g + max(math.Ceil(g*goroutineSlackPct), goroutineSlackAbs)
	checks = append(checks, check{metric: "goroutines", baseline: g, peak: peak(mGoroutines), final: final(mGoroutines),
		limit: fmt.Sprintf("≤ %.0f", gl), ok: final(mGoroutines) <= gl})
	f := median(mFDs)
	checks = append(checks, check{metric: "open fds", baseline: f, peak: peak(mFDs), final: final(mFDs),
		limit: fmt.Sprintf("≤ %.0f", f+fdSlack), ok: final(mFDs) <= f+fdSlack})
	checks = append(checks, check{metric: "realtime sockets", baseline: median(mSockets), peak: peak(mSockets), final: final(mSockets),
		limit: "= 0", ok: final(mSockets) == 0})
	if _, ok := base[0].m[mHeap]; ok {
		h := median(mHeap)
		lowest := math.NaN()
		for _, x := range after {
			if math.IsNaN(lowest) || x.m[mHeap] < lowest {
				lowest = x.m[mHeap]
			}
		}
		hl := 2*h + heapSlack
		checks = append(checks, check{metric: "heap in use (lowest settled)", bytes: true, baseline: h, peak: peak(mHeap), final: lowest,
			limit: "≤ " + mib(hl), ok: lowest <= hl})
	}
	r := median(mRSS)
	rl := max(2*r, r+rssSlack)
	checks = append(checks, check{metric: "RSS", bytes: true, baseline: r, peak: peak(mRSS), final: final(mRSS),
		limit: "≤ " + mib(rl), ok: final(mRSS) <= rl})

	fmt.Fprintf(out, "\nsoak summary: %v of load, %v settle; final = last reading after settle\n", duration, settle)
	fmt.Fprintf(out, "%-29s %12s %12s %12s %14s  %s\n", "metric", "baseline", "peak", "final", "limit", "verdict")
	for _, c := range checks {
		v := func(x float64) string {
			if c.bytes {
				return mib(x)
			}
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		verdict := "ok"
		if !c.ok {
			verdict = "FAIL"
			fail("%s: final %s, limit %s", c.metric, v(c.final), c.limit)
		}
		fmt.Fprintf(out, "%-29s %12s %12s %12s %14s  %s\n", c.metric, v(c.baseline), v(c.peak), v(c.final), c.limit, verdict)
	}
	if n := s.scrapeErrs.Load(); n > 0 {
		fmt.Fprintf(out, "(%d readings of /metrics failed)\n", n)
	}

	// Requests.
	rs.mu.Lock()
	names := make([]string, 0, len(rs.ops))
	for k := range rs.ops {
		names = append(names, k)
	}
	slices.Sort(names)
	total, ok2xx, n5xx, transport, unexpected := 0, 0, 0, 0, 0
	expected4xx, unexpected4xx := map[int]int{}, map[int]int{}
	fmt.Fprintf(out, "\nrequests by operation:\n%-30s %8s %9s %9s %9s  %s\n", "operation", "count", "p50", "p99", "max", "statuses")
	for _, k := range names {
		o := rs.ops[k]
		var st []string
		codes := make([]int, 0, len(o.byStatus))
		for c := range o.byStatus {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		n := 0
		for _, c := range codes {
			cnt := o.byStatus[c]
			n += cnt
			bad := o.unexpected[c]
			label := strconv.Itoa(c)
			if c == 0 {
				label = "no response"
			}
			st = append(st, fmt.Sprintf("%s×%d", label, cnt))
			switch {
			case c == 0:
				transport += cnt
			case c >= 500:
				n5xx += cnt
			case c >= 400:
				expected4xx[c] += cnt - bad
				unexpected4xx[c] += bad
			case c >= 200 && c < 300:
				ok2xx += cnt - bad
			}
			unexpected += bad
		}
		total += n
		slices.Sort(o.lat)
		pct := func(p float64) time.Duration {
			return o.lat[min(len(o.lat)-1, int(float64(len(o.lat))*p))].Round(10 * time.Microsecond)
		}
		fmt.Fprintf(out, "%-30s %8d %9v %9v %9v  %s\n", k, n, pct(.5), pct(.99), pct(1), strings.Join(st, " "))
		if o.firstErr != "" {
			fmt.Fprintf(out, "%30s first unexpected: %s\n", "", o.firstErr)
		}
	}
	rs.mu.Unlock()
	fmt.Fprintf(out, "requests: %d (%.1f/s); 2xx %d; 4xx expected %s; 4xx unexpected %s; 5xx %d; no response %d; unexpected in all %d\n",
		total, float64(total)/duration.Seconds(), ok2xx, byStatus(expected4xx), byStatus(unexpected4xx), n5xx, transport, unexpected)
	if n5xx > 0 {
		fail("%d responses with 5xx", n5xx)
	}
	if unexpected > 0 {
		fail("%d unexpected responses", unexpected)
	}
	if len(after) > 0 {
		if d := final(m5xx) - median(m5xx); d > 0 {
			fail("server counted %.0f 5xx responses (taskwire_http_requests_total)", d)
		}
		fmt.Fprintf(out, "server-side 5xx during the soak (taskwire_http_requests_total): %.0f\n", final(m5xx)-median(m5xx))
	}

	// Sockets.
	ss.mu.Lock()
	refused, closes := byStatus(ss.dialRefused), byKey(ss.serverCloses)
	ss.mu.Unlock()
	fmt.Fprintf(out, "sockets: %d (%d project, %d notification); %d connects, %d reconnects with since; closes by the tool (churn and end): %d with close frame (%d handshakes unfinished), %d TCP FIN, %d TCP RST\n",
		len(w.socks), w.projectSocks, len(w.socks)-w.projectSocks, ss.connects.Load(), ss.reconnects.Load(), ss.clean.Load(), ss.closeErrs.Load(), ss.fin.Load(), ss.rst.Load())
	fmt.Fprintf(out, "  received %d events, %d notifications; gaps %d, duplicates %d, resync_required %d, undecodable %d\n",
		ss.events.Load(), ss.notifications.Load(), ss.gaps.Load(), ss.dups.Load(), ss.resyncs.Load(), ss.undecodable.Load())
	fmt.Fprintf(out, "  handshakes refused %s; closed by the server %s; at the end: %d behind their stream's last seq, %d not connected\n",
		refused, closes, behind, down)
	if n := ss.gaps.Load(); n > 0 {
		fail("%d seqs missed by sockets", n)
	}
	if n := ss.dups.Load(); n > 0 {
		fail("%d seqs received twice", n)
	}
	if n := ss.undecodable.Load(); n > 0 {
		fail("%d messages were not JSON", n)
	}
	if behind > 0 || down > 0 {
		fail("%d sockets behind and %d not connected at the end of the load", behind, down)
	}
	ss.mu.Lock()
	for code, n := range ss.serverCloses {
		switch code {
		case "4401", "4408", "1001": // expired token, too slow, going away: the client resumes
		default:
			fail("%d sockets closed by the server with %s", n, code)
		}
	}
	ss.mu.Unlock()

	if len(failed) == 0 {
		fmt.Fprintln(out, "PASS")
	} else {
		fmt.Fprintln(out, "FAIL:", strings.Join(failed, "; "))
	}
	return failed
}

func mib(b float64) string {
	if math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", b/(1<<20))
}

func byStatus(m map[int]int) string {
	s := map[string]int{}
	for k, v := range m {
		if v > 0 {
			label := strconv.Itoa(k)
			if k == 0 {
				label = "no response"
			}
			s[label] = v
		}
	}
	return byKey(s)
}

func byKey(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
