// Package notify sends notifications that leave the server: email, through
// durable River jobs enqueued in the same transaction as the change.
package notify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail"
)

// Message is one email, rendered.
type Message struct {
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string // stable across retries, so receivers can drop duplicates
}

// Mailer delivers a message.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// LogMailer writes messages to the log instead of sending them: the
// default without SMTP_URL.
type LogMailer struct{ Logger *slog.Logger }

// Send implements Mailer.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "email not sent (no SMTP_URL): logged instead",
		"to", m.To, "subject", m.Subject, "message_id", m.MessageID, "text", m.Text)
	return nil
}

// SMTP delivers through an SMTP server.
type SMTP struct {
	from    string
	host    string
	options []mail.Option
}

// NewSMTP parses an SMTP URL and the sender address:
//
//	smtp://user:pass@host:587              STARTTLS if the server offers it
//	smtp://host:587?starttls=required      STARTTLS or fail
//	smtp://host:25?starttls=none           plain text (a local relay)
//	smtps://user:pass@host:465             implicit TLS
//
// ?insecure=true skips certificate verification (a test relay only).
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("SMTP_URL: want smtp://[user:pass@]host:port or smtps://[user:pass@]host:port")
	}
	if from == "" {
		return nil, errors.New("MAIL_FROM is required with SMTP_URL")
	}
	if err := mail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("MAIL_FROM %q: %v", from, err)
	}
	host := u.Hostname()
	opts := []mail.Option{mail.WithTimeout(30 * time.Second)}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
	}
	q := u.Query()
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if insecure, _ := strconv.ParseBool(q.Get("insecure")); insecure {
		tlsConf.InsecureSkipVerify = true
	}
	opts = append(opts, mail.WithTLSConfig(tlsConf))
	switch u.Scheme {
	case "smtps":
		if port == 0 {
			port = 465
		}
		opts = append(opts, mail.WithSSL())
	case "smtp":
		if port == 0 {
			port = 587
		}
		switch q.Get("starttls") {
		case "", "opportunistic":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
		case "required":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		case "none":
			opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		default:
			return nil, fmt.Errorf("SMTP_URL: starttls must be opportunistic, required or none")
		}
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	return &SMTP{from: from, host: host, options: opts}, nil
}

// Send implements Mailer. Addresses are validated by go-mail and the
// subject cannot carry a line break, so no header can be injected; a
// subject with text that looks like an encoded word is encoded whole, so
// the reader shows it as typed.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return err
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return err
	}
	if subject := oneLine(m.Subject); strings.Contains(subject, "=?") {
		msg.SetGenHeaderPreformatted(mail.HeaderSubject, literalSubject(subject))
	} else {
		msg.Subject(subject)
	}
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	c, err := mail.NewClient(s.host, s.options...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// oneLine replaces line breaks, so text from users cannot start a header.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// literalSubject encodes a whole subject as RFC 2047 encoded words (base64,
// UTF-8, one folded line each), so that a name or title that itself looks
// like an encoded word ("=?UTF-8?Q?...?=") is shown as typed instead of
// being decoded by the reader.
func literalSubject(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(len(s), 45) // 60 base64 characters: a word stays under 75
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if b.Len() > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString("=?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	return b.String()
}
