package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
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

// sample is one reading of /metrics with the tool's own figures then.
type sample struct {
	at       time.Duration
	phase    string // baseline, load or settle
	m        map[string]float64
	socksUp  int // sockets of the tool open
	requests int // responses so far
	failures int
}

// add appends a reading taken in phase, with up sockets of the tool open
// and the responses counted so far.
func (s *series) add(phase string, m map[string]float64, up int, rs *reqStats) {
	n, bad := rs.total()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, sample{at: time.Since(s.start), phase: phase, m: m, socksUp: up, requests: n, failures: bad})
}

// phase returns the readings taken in phase p.
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
