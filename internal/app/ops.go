package app

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/taskwire/taskwire"
)

// Version is the module version the binary was built from, or "dev".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// NewLogger returns the logger LOG_FORMAT and LOG_LEVEL ask for, writing
// to w: text on a terminal, JSON otherwise. Durations are written as Go
// durations ("10s"), not nanoseconds.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindDuration {
			return slog.String(a.Key, a.Value.Duration().String())
		}
		return a
	}}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// pprofServer serves net/http/pprof on its own listener, never the API's.
type pprofServer struct {
	ln  net.Listener
	srv *http.Server
}

func listenPprof(addr string) (*pprofServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return &pprofServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// serve runs until close.
func (p *pprofServer) serve() { _ = p.srv.Serve(p.ln) }

// close stops it at once: a profile under way (30 s by default) is cut.
func (p *pprofServer) close() {
	_ = p.srv.Close()
	p.ln.Close()
}

// countingPublisher counts the notifications it passes on, for /metrics.
type countingPublisher struct {
	taskwire.Publisher
	created prometheus.Counter
}

func newCountingPublisher(next taskwire.Publisher, reg prometheus.Registerer) *countingPublisher {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "taskwire_notifications_created_total", Help: "Notifications created (committed)."})
	reg.MustRegister(c)
	return &countingPublisher{Publisher: next, created: c}
}

// PublishNotification implements taskwire.Publisher.
func (p *countingPublisher) PublishNotification(n taskwire.Notification) {
	p.created.Inc()
	p.Publisher.PublishNotification(n)
}
