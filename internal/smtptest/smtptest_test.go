package smtptest_test

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire/internal/smtptest"
)

const alternative = "From: Olga <olga@example.com>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: =?UTF-8?Q?Zo=C3=AB_says_hi?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"plain =3D body\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+aHRtbCBib2R5PC9wPg==\r\n" + // <p>html body</p>
	"--b1--\r\n"

func send(s *smtptest.Server, a smtp.Auth, to ...string) error {
	return smtp.SendMail(s.Addr(), a, "olga@example.com", to, []byte(alternative))
}

// code returns the SMTP reply code of err, or 0.
func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestMessages(t *testing.T) {
	s := smtptest.New(t)
	if err := send(s, nil, "bob@example.com", "carl@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := s.Wait(t, 1, 10*time.Second)
	if len(msgs) != 1 || s.Transactions() != 1 {
		t.Fatalf("%d messages in %d transactions, want 1", len(msgs), s.Transactions())
	}
	m := msgs[0]
	if m.ParseErr != nil {
		t.Fatalf("ParseErr %v", m.ParseErr)
	}
	if m.From != "olga@example.com" || strings.Join(m.Rcpt, ",") != "bob@example.com,carl@example.com" || m.AuthUser != "" {
		t.Errorf("envelope from %q to %q, user %q", m.From, m.Rcpt, m.AuthUser)
	}
	if m.Raw != alternative {
		t.Errorf("Raw\n%q, want\n%q", m.Raw, alternative)
	}
	if m.Header.Get("To") != "bob@example.com" || m.Subject != "Zoë says hi" {
		t.Errorf("To %q, Subject %q", m.Header.Get("To"), m.Subject)
	}
	if m.Text != "plain = body" || m.HTML != "<p>html body</p>" {
		t.Errorf("Text %q, HTML %q", m.Text, m.HTML)
	}
	// Messages is a copy.
	msgs[0].From = "changed"
	if s.Messages()[0].From != "olga@example.com" {
		t.Error("Messages shares its slice with the server")
	}
}

func TestFailTemporarily(t *testing.T) {
	s := smtptest.New(t)
	s.FailTemporarily(2)
	for i := range 2 {
		if err := send(s, nil, "bob@example.com"); code(err) != 451 {
			t.Fatalf("send %d: %v, want 451", i, err)
		}
	}
	if err := send(s, nil, "bob@example.com"); err != nil {
		t.Fatalf("third send: %v", err)
	}
	if n, tx := len(s.Messages()), s.Transactions(); n != 1 || tx != 3 {
		t.Errorf("%d messages in %d transactions, want 1 in 3", n, tx)
	}
}

func TestFailPermanently(t *testing.T) {
	s := smtptest.New(t)
	s.FailPermanently()
	for i := range 2 {
		if err := send(s, nil, "bob@example.com"); code(err) != 554 {
			t.Fatalf("send %d: %v, want 554", i, err)
		}
	}
	if n, tx := len(s.Messages()), s.Transactions(); n != 0 || tx != 2 {
		t.Errorf("%d messages in %d transactions, want 0 in 2", n, tx)
	}
}

func TestRequireAuth(t *testing.T) {
	s := smtptest.New(t)
	s.RequireAuth("us@er", "p:ss w0rd")
	if err := send(s, nil, "bob@example.com"); err == nil {
		t.Fatal("sent without AUTH")
	}
	if err := send(s, smtp.CRAMMD5Auth("us@er", "wrong"), "bob@example.com"); err == nil {
		t.Fatal("sent with a wrong password")
	}
	if err := send(s, smtp.CRAMMD5Auth("us@er", "p:ss w0rd"), "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].AuthUser != "us@er" || s.Transactions() != 1 {
		t.Fatalf("%d transactions, messages %+v, want one from us@er", s.Transactions(), msgs)
	}
}
