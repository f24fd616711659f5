package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// emailsFlags are the emails scenario's flags.
type emailsFlags struct {
	base    string
	listen  string
	n       int
	senders int
	wait    time.Duration
}

// parseEmailsFlags parses the emails scenario's command line.
func parseEmailsFlags(args []string) (emailsFlags, error) {
	var f emailsFlags
	fs := flag.NewFlagSet("emails", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL")
	fs.StringVar(&f.listen, "smtp", "127.0.0.1:2525", "address of the SMTP server the tool runs")
	fs.IntVar(&f.n, "assignments", 1000, "assignments in the burst")
	fs.IntVar(&f.senders, "senders", 8, "concurrent requests")
	fs.DurationVar(&f.wait, "wait", 5*time.Minute, "how long to wait for the emails")
	err := fs.Parse(args)
	return f, err
}

// emailsRun is the state of one emails scenario: the owner who assigns
// tasks to the member in their project, and the tool's inbox.
type emailsRun struct {
	emailsFlags
	inbox     *inbox
	owner     client
	memberID  int64
	project   int64
	committed []time.Time // when each assignment's response arrived
}

// emails measures the time from the commit of an assignment (its response)
// to the email being accepted by an SMTP server the tool runs itself. Start
// the server with SMTP_URL=smtp://<-smtp>?starttls=none EMAIL_DEBOUNCE=0.
func emails(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseEmailsFlags(args)
	if err != nil {
		return err
	}
	r := &emailsRun{emailsFlags: f, inbox: &inbox{at: map[string]time.Time{}}}
	srv, err := r.serveSMTP()
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := r.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	time.Sleep(time.Second) // the membership email, before the burst
	r.inbox.reset()
	start := time.Now()
	if err := r.burst(ctx); err != nil {
		return err
	}
	burst := time.Since(start)
	deadline := time.Now().Add(r.wait)
	for r.inbox.count() < r.n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	lat := r.latencies()
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(time.Millisecond) }
	fmt.Fprintf(out, "emails: %d assignments committed in %v; %d emails accepted (%d duplicates)\n", r.n, burst.Round(time.Millisecond), len(lat), r.inbox.duplicates())
	fmt.Fprintf(out, "  commit -> accepted by SMTP: p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	return nil
}

// serveSMTP starts the SMTP server that delivers into r.inbox.
func (r *emailsRun) serveSMTP() (*smtp.Server, error) {
	srv := smtp.NewServer(r.inbox)
	srv.Addr, srv.Domain, srv.AllowInsecureAuth = r.listen, "twload.local", true
	ln, err := net.Listen("tcp", r.listen)
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return srv, nil
}

// setup signs up the owner and the member and creates the owner's project
// with the member in it.
func (r *emailsRun) setup(ctx context.Context) error {
	c := newClient(r.base, r.senders*2)
	r.owner = *c
	name := fmt.Sprintf("e%d", time.Now().UnixNano())
	if _, err := r.owner.login(ctx, name+"owner"); err != nil {
		return err
	}
	member := *c
	memberID, err := member.login(ctx, name+"member")
	if err != nil {
		return err
	}
	r.memberID = memberID
	var project struct{ ID int64 }
	if err := r.owner.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "emails " + name}, http.StatusCreated, &project); err != nil {
		return err
	}
	r.project = project.ID
	return r.owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", project.ID), map[string]int64{"user_id": memberID}, http.StatusCreated, nil)
}

// burst creates -assignments tasks assigned to the member from -senders
// concurrent requests, noting when each committed, and returns the first
// failure.
func (r *emailsRun) burst(ctx context.Context) error {
	r.committed = make([]time.Time, r.n)
	next := make(chan int)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	path := fmt.Sprintf("/api/v1/projects/%d/tasks", r.project)
	for range r.senders {
		wg.Go(func() {
			for k := range next {
				body := fmt.Sprintf(`{"title":"burst-%d","assignee_id":%d}`, k, r.memberID)
				err := r.owner.call(ctx, "POST", path, []byte(body), http.StatusCreated, nil)
				r.committed[k] = time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	for k := range r.n {
		next <- k
	}
	close(next)
	wg.Wait()
	return firstErr
}

// latencies returns, sorted, the time from each assignment's commit to its
// email's arrival, for the emails that arrived.
func (r *emailsRun) latencies() []time.Duration {
	got := r.inbox.snapshot()
	var lat []time.Duration
	for k := range r.n {
		if at, ok := got[fmt.Sprintf("burst-%d", k)]; ok {
			lat = append(lat, at.Sub(r.committed[k]))
		}
	}
	slices.Sort(lat)
	return lat
}

// inbox is the tool's SMTP backend: it notes when each task's email
// arrived (by the task title in the subject).
type inbox struct {
	mu   sync.Mutex
	at   map[string]time.Time
	dups int
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{inbox: b}, nil }

func (b *inbox) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.at)
	b.dups = 0
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.at)
}

func (b *inbox) duplicates() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dups
}

func (b *inbox) snapshot() map[string]time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]time.Time, len(b.at))
	for k, v := range b.at {
		out[k] = v
	}
	return out
}

type session struct{ inbox *inbox }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, msg.Body)
	now := time.Now()
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	_, rest, ok := strings.Cut(subject, "\u201c")
	title, _, ok2 := strings.Cut(rest, "\u201d")
	if !ok || !ok2 {
		return nil // not an assignment email
	}
	s.inbox.mu.Lock()
	defer s.inbox.mu.Unlock()
	if _, seen := s.inbox.at[title]; seen {
		s.inbox.dups++
		return nil
	}
	s.inbox.at[title] = now
	return nil
}
