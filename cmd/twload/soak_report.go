package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// check is one row of the summary table.
type check struct {
	metric                string
	bytes                 bool
	baseline, peak, final float64
	limit                 string
	ok                    bool
}

// failures are the checks a soak failed, in the order they were made.
type failures []string

// add notes a failed check, its message formatted as by fmt.Sprintf.
func (f *failures) add(format string, a ...any) { *f = append(*f, fmt.Sprintf(format, a...)) }

// readings are the series' samples by phase.
type readings struct {
	base, load, after []sample
}

// median is the median of metric k over the baseline.
func (rd readings) median(k string) float64 {
	v := make([]float64, 0, len(rd.base))
	for _, x := range rd.base {
		v = append(v, x.m[k])
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// peak is the highest reading of metric k.
func (rd readings) peak(k string) float64 {
	p := 0.0
	for _, x := range slices.Concat(rd.base, rd.load, rd.after) {
		p = max(p, x.m[k])
	}
	return p
}

// final is the last reading of metric k after the load, or NaN.
func (rd readings) final(k string) float64 {
	if len(rd.after) == 0 {
		return math.NaN()
	}
	return rd.after[len(rd.after)-1].m[k]
}

// lowestSettled is the lowest reading of metric k after the load, or NaN.
func (rd readings) lowestSettled(k string) float64 {
	lowest := math.NaN()
	for _, x := range rd.after {
		if math.IsNaN(lowest) || x.m[k] < lowest {
			lowest = x.m[k]
		}
	}
	return lowest
}

// report prints the soak's readings, its summary table, its requests and
// its sockets, then PASS or FAIL, and returns the checks that failed.
func (r *soakRun) report() []string {
	out := r.out
	rd := readings{base: r.series.phase("baseline"), load: r.series.phase("load"), after: r.series.phase("settle")}
	var failed failures
	if len(rd.after) == 0 {
		failed.add("no reading of /metrics after the load")
	}
	rd.print(out)
	fmt.Fprintf(out, "\nsoak summary: %v of load, %v settle; final = last reading after settle\n", r.duration, r.settle)
	printChecks(out, rd.checks(), &failed)
	if n := r.series.scrapeErrs.Load(); n > 0 {
		fmt.Fprintf(out, "(%d readings of /metrics failed)\n", n)
	}
	r.reportRequests(rd, &failed)
	r.reportSockets(&failed)
	if len(failed) == 0 {
		fmt.Fprintln(out, "PASS")
	} else {
		fmt.Fprintln(out, "FAIL:", strings.Join(failed, "; "))
	}
	return failed
}

// print prints the time series of the readings, with the request rate
// between readings under load.
func (rd readings) print(out io.Writer) {
	fmt.Fprintf(out, "\n/metrics readings (every %v under load, every %v while settling):\n", loadEvery, settleEvery)
	fmt.Fprintf(out, "%8s  %-8s %10s %10s %10s %6s %8s %9s %9s\n", "t", "phase", "RSS", "heap", "goroutines", "fds", "sockets", "tool up", "req/s")
	prev := sample{}
	for _, x := range slices.Concat(rd.base, rd.load, rd.after) {
		rps := "-"
		if x.phase == "load" && x.at > prev.at {
			rps = fmt.Sprintf("%.0f", float64(x.requests-prev.requests)/(x.at-prev.at).Seconds())
		}
		fmt.Fprintf(out, "%8v  %-8s %10s %10s %10.0f %6.0f %8.0f %9d %9s\n", x.at.Round(time.Second), x.phase,
			mib(x.m[mRSS]), mib(x.m[mHeap]), x.m[mGoroutines], x.m[mFDs], x.m[mSockets], x.socksUp, rps)
		prev = x
	}
}

// checks compares the final readings with the baseline, within the soak
// thresholds.
func (rd readings) checks() []check {
	var checks []check
	g := rd.median(mGoroutines)
	gl := g + max(math.Ceil(g*goroutineSlackPct), goroutineSlackAbs)
	checks = append(checks, check{metric: "goroutines", baseline: g, peak: rd.peak(mGoroutines), final: rd.final(mGoroutines),
		limit: fmt.Sprintf("≤ %.0f", gl), ok: rd.final(mGoroutines) <= gl})
	f := rd.median(mFDs)
	checks = append(checks, check{metric: "open fds", baseline: f, peak: rd.peak(mFDs), final: rd.final(mFDs),
		limit: fmt.Sprintf("≤ %.0f", f+fdSlack), ok: rd.final(mFDs) <= f+fdSlack})
	checks = append(checks, check{metric: "realtime sockets", baseline: rd.median(mSockets), peak: rd.peak(mSockets), final: rd.final(mSockets),
		limit: "= 0", ok: rd.final(mSockets) == 0})
	if _, ok := rd.base[0].m[mHeap]; ok {
		h := rd.median(mHeap)
		lowest := rd.lowestSettled(mHeap)
		hl := 2*h + heapSlack
		checks = append(checks, check{metric: "heap in use (lowest settled)", bytes: true, baseline: h, peak: rd.peak(mHeap), final: lowest,
			limit: "≤ " + mib(hl), ok: lowest <= hl})
	}
	r := rd.median(mRSS)
	rl := max(2*r, r+rssSlack)
	checks = append(checks, check{metric: "RSS", bytes: true, baseline: r, peak: rd.peak(mRSS), final: rd.final(mRSS),
		limit: "≤ " + mib(rl), ok: rd.final(mRSS) <= rl})
	return checks
}

// format prints a value of c's metric: MiB for bytes, else a count.
func (c check) format(x float64) string {
	if c.bytes {
		return mib(x)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// printChecks prints the summary table and adds the failed checks to
// failed.
func printChecks(out io.Writer, checks []check, failed *failures) {
	fmt.Fprintf(out, "%-29s %12s %12s %12s %14s  %s\n", "metric", "baseline", "peak", "final", "limit", "verdict")
	for _, c := range checks {
		verdict := "ok"
		if !c.ok {
			verdict = "FAIL"
			failed.add("%s: final %s, limit %s", c.metric, c.format(c.final), c.limit)
		}
		fmt.Fprintf(out, "%-29s %12s %12s %12s %14s  %s\n", c.metric, c.format(c.baseline), c.format(c.peak), c.format(c.final), c.limit, verdict)
	}
}

// requestTally sums the responses of every operation by kind of status.
type requestTally struct {
	total, ok2xx, n5xx, transport, unexpected int
	expected4xx, unexpected4xx                map[int]int
}

// reportRequests prints the requests by operation and in all, and adds
// the failures: 5xx responses, unexpected statuses, and 5xx the server
// counted.
func (r *soakRun) reportRequests(rd readings, failed *failures) {
	out := r.out
	t := printOperations(out, r.stats)
	fmt.Fprintf(out, "requests: %d (%.1f/s); 2xx %d; 4xx expected %s; 4xx unexpected %s; 5xx %d; no response %d; unexpected in all %d\n",
		t.total, float64(t.total)/r.duration.Seconds(), t.ok2xx, byStatus(t.expected4xx), byStatus(t.unexpected4xx), t.n5xx, t.transport, t.unexpected)
	if t.n5xx > 0 {
		failed.add("%d responses with 5xx", t.n5xx)
	}
	if t.unexpected > 0 {
		failed.add("%d unexpected responses", t.unexpected)
	}
	if len(rd.after) > 0 {
		if d := rd.final(m5xx) - rd.median(m5xx); d > 0 {
			failed.add("server counted %.0f 5xx responses (taskwire_http_requests_total)", d)
		}
		fmt.Fprintf(out, "server-side 5xx during the soak (taskwire_http_requests_total): %.0f\n", rd.final(m5xx)-rd.median(m5xx))
	}
}

// printOperations prints a row per operation (count, latency, statuses)
// and returns the sums over all of them.
func printOperations(out io.Writer, rs *reqStats) requestTally {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	names := make([]string, 0, len(rs.ops))
	for k := range rs.ops {
		names = append(names, k)
	}
	slices.Sort(names)
	t := requestTally{expected4xx: map[int]int{}, unexpected4xx: map[int]int{}}
	fmt.Fprintf(out, "\nrequests by operation:\n%-30s %8s %9s %9s %9s  %s\n", "operation", "count", "p50", "p99", "max", "statuses")
	for _, k := range names {
		o := rs.ops[k]
		n, statuses := t.add(o)
		slices.Sort(o.lat)
		pct := func(p float64) time.Duration { return percentile(o.lat, p).Round(10 * time.Microsecond) }
		fmt.Fprintf(out, "%-30s %8d %9v %9v %9v  %s\n", k, n, pct(.5), pct(.99), pct(1), strings.Join(statuses, " "))
		if o.firstErr != "" {
			fmt.Fprintf(out, "%30s first unexpected: %s\n", "", o.firstErr)
		}
	}
	return t
}

// add counts o's responses into t and returns their number and their
// statuses as "code×count", by code.
func (t *requestTally) add(o *opStats) (n int, statuses []string) {
	codes := make([]int, 0, len(o.byStatus))
	for c := range o.byStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		cnt := o.byStatus[c]
		n += cnt
		bad := o.unexpected[c]
		label := strconv.Itoa(c)
		if c == 0 {
			label = "no response"
		}
		statuses = append(statuses, fmt.Sprintf("%s×%d", label, cnt))
		switch {
		case c == 0:
			t.transport += cnt
		case c >= 500:
			t.n5xx += cnt
		case c >= 400:
			t.expected4xx[c] += cnt - bad
			t.unexpected4xx[c] += bad
		case c >= 200 && c < 300:
			t.ok2xx += cnt - bad
		}
		t.unexpected += bad
	}
	t.total += n
	return n, statuses
}

// reportSockets prints the sockets' figures and adds the failures: missed
// or repeated seqs, undecodable messages, sockets behind or down at the
// end, and closes by the server a client does not resume from.
func (r *soakRun) reportSockets(failed *failures) {
	out, ss, w := r.out, r.ss, r.w
	ss.mu.Lock()
	refused, closes := byStatus(ss.dialRefused), byKey(ss.serverCloses)
	ss.mu.Unlock()
	fmt.Fprintf(out, "sockets: %d (%d project, %d notification); %d connects, %d reconnects with since; closes by the tool (churn and end): %d with close frame (%d handshakes unfinished), %d TCP FIN, %d TCP RST\n",
		len(w.socks), w.projectSocks, len(w.socks)-w.projectSocks, ss.connects.Load(), ss.reconnects.Load(), ss.clean.Load(), ss.closeErrs.Load(), ss.fin.Load(), ss.rst.Load())
	fmt.Fprintf(out, "  received %d events, %d notifications; gaps %d, duplicates %d, resync_required %d, undecodable %d\n",
		ss.events.Load(), ss.notifications.Load(), ss.gaps.Load(), ss.dups.Load(), ss.resyncs.Load(), ss.undecodable.Load())
	fmt.Fprintf(out, "  handshakes refused %s; closed by the server %s; at the end: %d behind their stream's last seq, %d not connected\n",
		refused, closes, r.behind, r.down)
	if n := ss.gaps.Load(); n > 0 {
		failed.add("%d seqs missed by sockets", n)
	}
	if n := ss.dups.Load(); n > 0 {
		failed.add("%d seqs received twice", n)
	}
	if n := ss.undecodable.Load(); n > 0 {
		failed.add("%d messages were not JSON", n)
	}
	if r.behind > 0 || r.down > 0 {
		failed.add("%d sockets behind and %d not connected at the end of the load", r.behind, r.down)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for code, n := range ss.serverCloses {
		switch code {
		case "4401", "4408", "1001": // expired token, too slow, going away: the client resumes
		default:
			failed.add("%d sockets closed by the server with %s", n, code)
		}
	}
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
