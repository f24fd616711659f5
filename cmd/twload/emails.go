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

// emails measures the time from the commit of an assignment (its response)
// to the email being accepted by an SMTP server the tool runs itself. Start
// the server with SMTP_URL=smtp://<-smtp>?starttls=none EMAIL_DEBOUNCE=0.
func emails(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("emails", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "Taskwire base URL")
	listen := fs.String("smtp", "127.0.0.1:2525", "address of the SMTP server the tool runs")
	n := fs.Int("assignments", 1000, "assignments in the burst")
	senders := fs.Int("senders", 8, "concurrent requests")
	wait := fs.Duration("wait", 5*time.Minute, "how long to wait for the emails")
	if err := fs.Parse(args); err != nil {
		return err
	}
	inbox := &inbox{at: map[string]time.Time{}}
	srv := smtp.NewServer(inbox)
	srv.Addr, srv.Domain, srv.AllowInsecureAuth = *listen, "twload.local", true
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer srv.Close()

	c := newClient(*base, *senders*2)
	owner := *c
	run := fmt.Sprintf("e%d", time.Now().UnixNano())
	if _, err := owner.login(ctx, run+"owner"); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	member := *c
	memberID, err := member.login(ctx, run+"member")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var project struct{ ID int64 }
	if err := owner.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "emails " + run}, http.StatusCreated, &project); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", project.ID), map[string]int64{"user_id": memberID}, http.StatusCreated, nil); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	time.Sleep(time.Second) // the membership email, before the burst
	inbox.reset()

	committed := make([]time.Time, *n)
	next := make(chan int)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	start := time.Now()
	for range *senders {
		wg.Go(func() {
			for k := range next {
				body := fmt.Sprintf(`{"title":"burst-%d","assignee_id":%d}`, k, memberID)
				err := owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", project.ID), []byte(body), http.StatusCreated, nil)
				committed[k] = time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	for k := range *n {
		next <- k
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	burst := time.Since(start)
	deadline := time.Now().Add(*wait)
	for inbox.count() < *n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := inbox.snapshot()
	var lat []time.Duration
	for k := range *n {
		if at, ok := got[fmt.Sprintf("burst-%d", k)]; ok {
			lat = append(lat, at.Sub(committed[k]))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))].Round(time.Millisecond)
	}
	fmt.Fprintf(out, "emails: %d assignments committed in %v; %d emails accepted (%d duplicates)\n", *n, burst.Round(time.Millisecond), len(lat), inbox.duplicates())
	fmt.Fprintf(out, "  commit -> accepted by SMTP: p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	return nil
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
