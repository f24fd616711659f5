// Package smtptest runs an in-process SMTP server (go-smtp) on 127.0.0.1
// for tests. The server records every message it accepts, parsed for
// assertions, and can refuse transactions the way a greylisting (451) or
// blocking (554) server would, or require AUTH CRAM-MD5.
//
// It is an ordinary package so that tests in several packages can share
// it; only _test.go files import it.
package smtptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server that accepts mail for any recipient.
type Server struct {
	addr string

	mu         sync.Mutex // guards the fields below
	msgs       []Message
	attempts   int    // transactions begun (MAIL FROM)
	tempFails  int    // the next tempFails transactions are refused with 451
	permFail   bool   // every transaction is refused with 554
	user, pass string // when user is set, MAIL needs AUTH CRAM-MD5 as user with pass
}

// Message is one accepted message: its envelope, the text as received
// and its parsed headers and body parts. Callers must not modify it.
type Message struct {
	From     string   // envelope sender
	Rcpt     []string // envelope recipients
	AuthUser string   // the user the session authenticated as, or ""
	Raw      string   // as received, with \r\n line ends
	Header   mail.Header
	Subject  string // decoded
	Text     string // the text/plain part, with \n line ends
	HTML     string // the text/html part, with \n line ends
	ParseErr error  // why Header, Subject, Text or HTML may be incomplete
}

// New starts a server on 127.0.0.1:0 and closes it when t's test ends.
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{addr: ln.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "smtptest.test"
	srv.AllowInsecureAuth = true // tests talk plain text to 127.0.0.1
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// FailTemporarily makes the next n transactions fail with 451 at RCPT TO.
func (s *Server) FailTemporarily(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tempFails = n
}

// FailPermanently makes every later transaction fail with 554 at RCPT TO.
func (s *Server) FailPermanently() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.permFail = true
}

// RequireAuth makes later connections offer AUTH CRAM-MD5 (the mechanism
// go-mail uses without TLS) and refuse MAIL FROM until the client has
// authenticated as user with pass.
func (s *Server) RequireAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

// Messages returns a copy of the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Transactions returns how many transactions were begun, refused or not.
func (s *Server) Transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Wait polls until the server holds at least n messages and returns them.
// It is a hang guard, not a timing assertion: timeout should be far beyond
// the time the messages need; when it passes, Wait fails t.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d messages after %v, want %d", len(msgs), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// begin counts a transaction and returns the error its RCPT commands get
// when it is refused, or nil.
func (s *Server) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	switch {
	case s.permFail:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Rejected by the test server"}
	case s.tempFails > 0:
		s.tempFails--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	return nil
}

// credentials returns the user and password RequireAuth set, if any.
func (s *Server) credentials() (user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user, s.pass
}

// session is one connection's state and current transaction.
type session struct {
	s        *Server
	authUser string // set once AUTH succeeds
	from     string
	rcpt     []string
	refuse   error // for every RCPT of this transaction
}

func (se *session) Reset() { se.from, se.rcpt, se.refuse = "", nil, nil }

func (se *session) Logout() error { return nil }

func (se *session) AuthMechanisms() []string {
	if user, _ := se.s.credentials(); user == "" {
		return nil
	}
	return []string{"CRAM-MD5"}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	user, pass := se.s.credentials()
	if user == "" || mech != "CRAM-MD5" {
		return nil, smtp.ErrAuthUnsupported
	}
	return &cramMD5{user: user, pass: pass, challenge: "<1896.697170952@smtptest.test>", ok: func() { se.authUser = user }}, nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if user, _ := se.s.credentials(); user != "" && se.authUser == "" {
		return smtp.ErrAuthRequired
	}
	se.from, se.rcpt, se.refuse = from, nil, se.s.begin()
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if se.refuse != nil {
		return se.refuse
	}
	se.rcpt = append(se.rcpt, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.From, m.Rcpt, m.AuthUser = se.from, slices.Clone(se.rcpt), se.authUser
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	se.s.msgs = append(se.s.msgs, m)
	return nil
}

// cramMD5 is the server side of CRAM-MD5 (RFC 2195).
type cramMD5 struct {
	user, pass string
	challenge  string
	ok         func()
}

func (c *cramMD5) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil {
		return []byte(c.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	mac := hmac.New(md5.New, []byte(c.pass))
	mac.Write([]byte(c.challenge))
	if user != c.user || digest != hex.EncodeToString(mac.Sum(nil)) {
		return nil, false, errors.New("bad credentials")
	}
	c.ok()
	return nil, true, nil
}

// parse decodes a message's headers and its text and HTML parts.
func parse(raw []byte) Message {
	m := Message{Raw: string(raw)}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseErr = err
		return m
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseErr = err
		return m
	}
	m.ParseErr = m.readPart(textproto.MIMEHeader(msg.Header), msg.Body)
	return m
}

func (m *Message) readPart(h textproto.MIMEHeader, body io.Reader) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable itself
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readPart(p.Header, p); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}
