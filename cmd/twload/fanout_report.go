package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fanoutTally sums what the sockets received.
type fanoutTally struct {
	lat                    []int32 // microseconds, sorted
	lost, dup, ooo, closed int64
}

// tally sums the sockets' figures, given total, the events sent.
func (r *fanoutRun) tally(total int64) fanoutTally {
	var t fanoutTally
	for _, s := range r.socks {
		t.lat = append(t.lat, s.lat...)
		t.lost += r.baseSeq + total - s.lastSeq.Load() + s.gaps
		t.dup += s.dups
		t.ooo += s.ooo
		if s.closed.Load() {
			t.closed++
		}
	}
	slices.Sort(t.lat)
	return t
}

// report prints the delivery of total events, sent over sendTime and
// received within elapsed of the first send.
func (r *fanoutRun) report(total int64, sendTime, elapsed time.Duration) {
	t := r.tally(total)
	pct := func(p float64) time.Duration { return time.Duration(percentile(t.lat, p)) * time.Microsecond }
	out := r.out
	fmt.Fprintf(out, "fanout: %d sockets, %d events sent in %v (%.1f/s), %d send errors\n", r.sockets, total, sendTime.Round(time.Millisecond), float64(total)/sendTime.Seconds(), r.sendErrs.Load())
	fmt.Fprintf(out, "  deliveries %d (expected %d), %.0f deliveries/s over %v\n", r.delivered.Load(), total*int64(r.sockets), float64(r.delivered.Load())/elapsed.Seconds(), elapsed.Round(time.Millisecond))
	if r.rate > 0 {
		fmt.Fprintf(out, "  latency send->receipt p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	}
	fmt.Fprintf(out, "  lost %d, duplicated %d, out of order %d, sockets closed by the server %d\n", t.lost, t.dup, t.ooo, t.closed)
	if r.stalled > 0 {
		fmt.Fprintf(out, "  (latency, lost and closed count the %d reading sockets)\n", r.sockets)
		fmt.Fprintf(out, "  stalled sockets: %s\n", drainStalled(r.stalledConns))
	}
	fmt.Fprintf(out, "  load tool: GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
}

// measureIdle holds the sockets idle for d (their readers answer pings and
// count heartbeats) and reports what that cost the server.
func measureIdle(out io.Writer, d time.Duration, pid int, socks []*sock) {
	cpu0, rss0 := cpuTime(pid), rss(pid)
	time.Sleep(d)
	cpu, rss1 := cpuTime(pid)-cpu0, rss(pid)
	var beats int64
	for _, s := range socks {
		beats += s.beats.Load()
	}
	perSocket := float64(cpu.Microseconds()) / d.Seconds() / float64(len(socks))
	fmt.Fprintf(out, "idle %v: server CPU %v (%.2f%% of a core, %.2f µs per socket per second), RSS %.1f → %.1f MiB, %d heartbeats received\n",
		d, cpu, 100*cpu.Seconds()/d.Seconds(), perSocket, float64(rss0)/(1<<20), float64(rss1)/(1<<20), beats)
}

// cpuTime reads the user and system CPU time a process has used from
// /proc (in clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields start after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// rss returns a process's resident set size in bytes, or 0.
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return n * 1024
			}
		}
	}
	return 0
}
