package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/internal/smtptest"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// Header injection: text that users control (usernames, project names,
// task titles) and addresses reach the message a real SMTP server
// receives without adding a header, a recipient or a second message.

// allowedHeaders are the only header fields a Taskwire email may carry.
var allowedHeaders = map[string]bool{
	"From": true, "To": true, "Subject": true, "Message-Id": true, "Date": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
	"User-Agent": true, "X-Mailer": true,
}

// checkMessage asserts that m went to exactly rcpt, with one To naming
// rcpt and no header beyond the allowed ones (each once), and returns the
// decoded subject, To display name and text part.
func checkMessage(t *testing.T, m smtptest.Message, rcpt string) (subject, toName, text string) {
	t.Helper()
	if len(m.Rcpt) != 1 || m.Rcpt[0] != rcpt {
		t.Errorf("envelope recipients %q, want only %q", m.Rcpt, rcpt)
	}
	if m.From != "noreply@taskwire.test" {
		t.Errorf("envelope sender %q", m.From)
	}
	head, _, found := strings.Cut(m.Raw, "\r\n\r\n")
	if !found {
		t.Fatalf("no header block:\n%s", m.Raw)
	}
	// Every header line ends in CRLF; no bare CR or LF may split one.
	for i, line := range strings.Split(head, "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("header line %d holds a bare CR or LF: %q", i, line)
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a folded header
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			t.Errorf("header line %d is not a field: %q", i, line)
			continue
		}
		if !allowedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			t.Errorf("unexpected header %q (line %q)", name, line)
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, m.Raw)
	}
	for name, values := range msg.Header {
		if len(values) != 1 {
			t.Errorf("header %s appears %d times: %q", name, len(values), values)
		}
	}
	tos, err := mail.ParseAddressList(msg.Header.Get("To"))
	if err != nil || len(tos) != 1 || tos[0].Address != rcpt {
		t.Errorf("To %q (%v) does not name exactly %s", msg.Header.Get("To"), err, rcpt)
	} else {
		toName = tos[0].Name
	}
	if froms, err := mail.ParseAddressList(msg.Header.Get("From")); err != nil || len(froms) != 1 || froms[0].Address != "noreply@taskwire.test" {
		t.Errorf("From %q", msg.Header.Get("From"))
	}
	if subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Errorf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	text, err = textPart(textproto.MIMEHeader(msg.Header), msg.Body)
	if err != nil {
		t.Errorf("body: %v\n%s", err, m.Raw)
	}
	return subject, toName, text
}

// textPart returns the text/plain part (quoted-printable decoded).
func textPart(h textproto.MIMEHeader, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		if mt != "text/plain" {
			return "", nil
		}
		b, err := io.ReadAll(body)
		return strings.ReplaceAll(string(b), "\r\n", "\n"), err
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", errors.New("no text/plain part")
		}
		if err != nil {
			return "", err
		}
		if s, err := textPart(p.Header, p); err != nil || s != "" {
			return s, err
		}
	}
}

// injections are texts an attacker may put in a name or title.
var injections = []struct{ name, s string }{
	{"CRLFBcc", "Ship it\r\nBcc: evil@example.com"},
	{"LFBcc", "Ship it\nBcc: evil@example.com"},
	{"CRBcc", "Ship it\rBcc: evil@example.com"},
	{"CRLFCc", "x\r\nCc: evil@example.com\r\nX-Injected: yes"},
	{"CRLFTo", "x\r\nTo: evil@example.com"},
	{"CRLFFrom", "x\r\nFrom: ceo@example.com\r\nReply-To: evil@example.com"},
	{"CRLFContentType", "x\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>"},
	{"HeaderEndThenBody", "x\r\n\r\nforged body\r\n"},
	{"Smuggling", "x\r\n.\r\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<evil@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n"},
	{"SmugglingBareLF", "x\n.\nRCPT TO:<evil@example.com>\n"},
	{"SmugglingBareCR", "x\r.\rRCPT TO:<evil@example.com>\r"},
	{"NELAndSeparators", "a\u0085Bcc: evil@example.com\u2028Cc: evil@example.com\u2029X-Injected: yes"},
	{"EncodedWordCRLF", "=?UTF-8?Q?x=0D=0ABcc:_evil@example.com?="},
	{"EncodedWordB64", "=?UTF-8?B?eA0KQmNjOiBldmlsQGV4YW1wbGUuY29t?="},
	{"BccWithoutBreak", "Bcc: evil@example.com"},
	{"AddressLike", `"Eve" <evil@example.com>, other@example.com`},
	{"Unicode", "Zoë 🚀 \u202e שלום 𝔘"},
	{"Long", strings.Repeat("Bcc: evil@example.com ", 40)},
}

const injFrom = "Taskwire <noreply@taskwire.test>"

// TestHeaderInjectionSMTP renders each kind of email with hostile text in
// every user-controlled field and sends it through the real SMTP mailer.
func TestHeaderInjectionSMTP(t *testing.T) {
	srv := smtptest.New(t)
	mailer, err := NewSMTP("smtp://"+srv.Addr()+"?starttls=none", injFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sent := 0
	for _, inj := range injections {
		for _, kind := range append(slices.Clone(taskwire.EmailKinds), taskwire.EmailInvitation) {
			for _, field := range []string{"ToName", "ActorUsername", "ProjectName", "TaskTitle"} {
				t.Run(inj.name+"/"+string(kind)+"/"+field, func(t *testing.T) {
					e := taskwire.Email{Kind: kind, To: "bob@example.com", ToName: "bob", ActorUsername: "olga",
						ProjectID: 7, ProjectName: "Apollo", TaskID: 42, TaskTitle: "Write docs", TaskStatus: taskwire.StatusTodo,
						DueAt: time.Date(2031, 1, 2, 3, 4, 0, 0, time.UTC)}
					switch field {
					case "ToName":
						if kind == taskwire.EmailInvitation {
							t.Skip("an invitation goes to an address without a name")
						}
						e.ToName = inj.s
					case "ActorUsername":
						if kind == taskwire.NotifyTaskDueSoon {
							t.Skip("a reminder names no actor")
						}
						e.ActorUsername = inj.s
					case "ProjectName":
						e.ProjectName = inj.s
					case "TaskTitle":
						if kind == taskwire.NotifyMemberAdded || kind == taskwire.EmailInvitation {
							t.Skip("this email has no task")
						}
						e.TaskTitle = inj.s
					}
					m, err := render(e, "https://app.example", "inj-"+inj.name+"@taskwire")
					if err != nil {
						t.Fatal(err)
					}
					if err := mailer.Send(ctx, m); err != nil {
						// Refusing to send is safe; it must not be a partial send.
						t.Logf("Send refused: %v", err)
						if n := len(srv.Messages()); n != sent {
							t.Fatalf("a refused Send delivered %d messages", n-sent)
						}
						return
					}
					sent++
					msgs := srv.Messages()
					if len(msgs) != sent {
						t.Fatalf("%d messages after %d sends: the text smuggled a message", len(msgs), sent)
					}
					subject, toName, text := checkMessage(t, msgs[len(msgs)-1], "bob@example.com")
					if field == "ToName" && toName != oneLineOrSame(inj.s, toName) {
						t.Errorf("To display name %q from %q", toName, inj.s)
					}
					// Text that looks like an RFC 2047 encoded word is
					// shown as typed too: the subject is then encoded whole.
					checkSubject(t, subject, inj.s, field != "ToName")
					// The text reaches the body whole (line breaks may be
					// normalised), so nothing was cut to end the message.
					if want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(inj.s); !strings.Contains(text, want) {
						t.Errorf("text part lacks %q:\n%s", want, text)
					}
				})
			}
		}
	}
	if sent == 0 {
		t.Fatal("nothing was sent")
	}
}

// checkSubject asserts that the decoded subject is one line and, when
// contains, holds text on one line (header folding may change runs of
// spaces).
func checkSubject(t *testing.T, subject, text string, contains bool) {
	t.Helper()
	if strings.ContainsAny(subject, "\r\n\u0085\u2028\u2029") {
		t.Errorf("decoded subject spans lines: %q", subject)
	}
	if contains && !strings.Contains(squash(subject), squash(oneLine(text))) {
		t.Errorf("subject %q lacks the text %q on one line", subject, oneLine(text))
	}
}

// squash collapses runs of white space, which folding may change.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// oneLineOrSame accepts a display name that is the text itself or the text
// with its line breaks replaced (the mailer may do either, safely encoded).
func oneLineOrSame(s, got string) string {
	if got == s {
		return s
	}
	return oneLine(s)
}

// TestHeaderInjectionAddresses: an address with a line break or a second
// address never reaches the envelope or the To header.
func TestHeaderInjectionAddresses(t *testing.T) {
	srv := smtptest.New(t)
	mailer, err := NewSMTP("smtp://"+srv.Addr()+"?starttls=none", injFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, to := range []string{
		"bob@example.com\r\nBcc: evil@example.com",
		"bob@example.com\nBcc: evil@example.com",
		"bob@example.com\r\n",
		"bob@example.com, evil@example.com",
		"bob@example.com>, <evil@example.com",
		"Bob <bob@example.com>\r\nCc: evil@example.com",
		"bob@example.com\r\n.\r\nRCPT TO:<evil@example.com>",
		"<bob@example.com> <evil@example.com>",
	} {
		t.Run(strings.NewReplacer("\r", "CR", "\n", "LF").Replace(to), func(t *testing.T) {
			if taskwire.ValidateEmail(to) == nil {
				t.Fatalf("the domain accepts %q as an email", to)
			}
			before := len(srv.Messages())
			m := Message{To: to, ToName: "bob", Subject: "s", Text: "t", HTML: "<p>t</p>", MessageID: "a@taskwire"}
			err := mailer.Send(ctx, m)
			msgs := srv.Messages()
			if err == nil {
				// go-mail may send to the whole string as one (quoted,
				// undeliverable) mailbox: that is safe as long as it is one
				// recipient, the one named in To, and no header is added.
				if len(msgs) != before+1 {
					t.Fatalf("one Send delivered %d messages", len(msgs)-before)
				}
				msg := msgs[before]
				if len(msg.Rcpt) != 1 || msg.Rcpt[0] == "evil@example.com" {
					t.Fatalf("envelope recipients %q", msg.Rcpt)
				}
				t.Logf("sent to the single mailbox %q", msg.Rcpt[0])
				checkMessage(t, msg, msg.Rcpt[0])
				return
			}
			if len(msgs) != before {
				t.Fatalf("a refused Send delivered a message: %q", msgs[before:])
			}
		})
	}
}

// TestHeaderInjectionEndToEnd runs the real pipeline: the domain service on
// a real store (SQLite, or PostgreSQL with TASKWIRE_TEST_STORE=postgres)
// enqueues River email jobs, which render and send through SMTP to the
// in-process server. Usernames, project names and task titles carry
// injection attempts; signup refuses addresses and usernames with line
// breaks.
func TestHeaderInjectionEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	target := sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(t.TempDir(), "taskwire.db")}
	postgres := os.Getenv("TASKWIRE_TEST_STORE") == "postgres"
	if postgres {
		target = sqlstore.Target{Dialect: "postgres", DSN: storetest.PostgresURL(t)}
	}
	jobs, err := NewInserter(Options{Debounce: -1, MaxAttempts: 2, Postgres: postgres})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, target, sqlstore.Options{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conns := 1 // River's SQLite driver wants one connection
	if postgres {
		conns = 4
	}
	pool, err := db.NewPool(conns)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool, postgres); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.New(t)
	mailer, err := NewSMTP("smtp://"+srv.Addr()+"?starttls=none", injFrom)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	queue, err := New(ctx, logger, pool, mailer, nil, Options{Debounce: -1, PollInterval: 50 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, MaxAttempts: 2, BaseURL: "https://app.example", Postgres: postgres})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewBcrypt(4)
	if err != nil {
		t.Fatal(err)
	}
	svc := taskwire.NewService(db, testenv.Discard{}, hasher, taskwire.Options{})
	if err := queue.Start(context.WithoutCancel(ctx), svc); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = queue.Stop(sctx)
	}()

	t.Run("SignupRefusesLineBreaks", func(t *testing.T) {
		for _, in := range []taskwire.Signup{
			{Email: "eve@example.com\r\nBcc: evil@example.com", Username: "eve1"},
			{Email: "eve@example.com\nBcc: evil@example.com", Username: "eve2"},
			{Email: "eve\r@example.com", Username: "eve3"},
			{Email: "eve@example.com\r\n", Username: "eve4"},
			{Email: "Eve <eve@example.com>", Username: "eve5"},
			{Email: "eve@example.com, evil@example.com", Username: "eve6"},
			{Email: "eve7@example.com", Username: "eve\r\nBcc: evil@example.com"},
			{Email: "eve8@example.com", Username: "eve\nX-Injected: yes"},
			{Email: "eve9@example.com", Username: "eve\u2028Bcc: evil@example.com"},
			{Email: "eve10@example.com", Username: "eve\u0085Bcc: evil@example.com"},
		} {
			in.Password = "password123"
			u, err := svc.Signup(ctx, in)
			if taskwire.ErrorKind(err) != taskwire.Invalid {
				t.Errorf("Signup(%q, %q) = %+v, %v; want Invalid", in.Email, in.Username, u, err)
			}
		}
	})

	// Usernames the domain accepts that are hostile in a header: quotes,
	// commas, angle brackets, colons, encoded words.
	victimNames := []string{
		`Bob "the boss" <evil@example.com>, x`,
		"Bcc: evil@example.com",
		"=?UTF-8?Q?x=0D=0ABcc:_evil@example.com?=",
		"Zoë 🚀 \u202e שלום",
		`\"; evil@example.com`,
	}
	actor, err := svc.Signup(ctx, taskwire.Signup{Email: "olga@example.com", Username: "olga\", <evil@example.com>: Bcc", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	type victim struct {
		user  taskwire.User
		title string
	}
	var victims []victim
	for i, name := range victimNames {
		u, err := svc.Signup(ctx, taskwire.Signup{Email: "victim" + string(rune('a'+i)) + "@example.com", Username: name, Password: "password123"})
		if err != nil {
			t.Fatalf("Signup(%q): %v", name, err)
		}
		victims = append(victims, victim{user: u})
	}
	p, err := svc.CreateProject(ctx, actor, taskwire.NewProject{Name: "Apollo\r\nX-Injected: yes\r\n\r\nbody"}, taskwire.IdempotencyKey{})
	if err != nil {
		t.Fatal(err)
	}
	titles := []string{injections[0].s, injections[8].s, injections[11].s, injections[12].s, injections[9].s}
	for i := range victims {
		id := victims[i].user.ID
		if _, err := svc.AddMember(ctx, actor, p.ID, taskwire.UserSelector{ID: &id}, taskwire.IdempotencyKey{}); err != nil {
			t.Fatal(err)
		}
		victims[i].title = titles[i%len(titles)]
		if _, err := svc.CreateTask(ctx, actor, p.ID, taskwire.NewTask{Title: victims[i].title, AssigneeID: &id}, taskwire.IdempotencyKey{}); err != nil {
			t.Fatal(err)
		}
	}
	want := 2 * len(victims) // one "added" and one "assigned" each
	// A hang guard, not a timing assertion: far beyond River's scheduling.
	msgs := srv.Wait(t, want, 60*time.Second)
	if len(msgs) != want {
		t.Fatalf("%d messages, want %d", len(msgs), want)
	}
	byRcpt := map[string][]smtptest.Message{}
	for _, m := range msgs {
		for _, r := range m.Rcpt {
			byRcpt[r] = append(byRcpt[r], m)
		}
	}
	for _, v := range victims {
		t.Run(v.user.Email, func(t *testing.T) {
			got := byRcpt[v.user.Email]
			if len(got) != 2 {
				t.Fatalf("%d messages to %s, want 2", len(got), v.user.Email)
			}
			assigned := 0
			for _, m := range got {
				subject, toName, text := checkMessage(t, m, v.user.Email)
				if toName != v.user.Username {
					t.Errorf("To display name %q, want the username %q", toName, v.user.Username)
				}
				checkSubject(t, subject, p.Name, true)
				checkSubject(t, subject, actor.Username, true)
				if strings.Contains(subject, "assigned you") {
					assigned++
					checkSubject(t, subject, v.title, true)
					if want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(v.title); !strings.Contains(text, want) {
						t.Errorf("text part lacks the title %q:\n%s", want, text)
					}
				}
			}
			if assigned != 1 {
				t.Errorf("%d assignment emails, want 1", assigned)
			}
		})
	}
	for r := range byRcpt {
		if !strings.HasPrefix(r, "victim") {
			t.Errorf("mail sent to %q", r)
		}
	}
}
