package notify

import (
	"context"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/smtptest"
	gomail "github.com/wneessen/go-mail"
)

func TestNewSMTP(t *testing.T) {
	const from = "Taskwire <noreply@example.com>"
	for _, tc := range []struct {
		name, url string
		addr      string // host:port the client dials
		policy    string // STARTTLS policy; "" for implicit TLS
	}{
		{"OKPlainRelay", "smtp://host:25?starttls=none", "host:25", "NoTLS"},
		{"OKCredentials", "smtp://user:pass@host:587", "host:587", "TLSOpportunistic"},
		{"OKDefaultPort", "smtp://host", "host:587", "TLSOpportunistic"},
		{"OKOpportunistic", "smtp://host:2525?starttls=opportunistic", "host:2525", "TLSOpportunistic"},
		{"OKRequired", "smtp://host:587?starttls=required", "host:587", "TLSMandatory"},
		{"OKImplicitTLS", "smtps://host", "host:465", ""},
		{"OKImplicitTLSPort", "smtps://user:pass@mail.example.com:2465?insecure=true", "mail.example.com:2465", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSMTP(tc.url, from)
			if err != nil {
				t.Fatalf("NewSMTP(%q): %v", tc.url, err)
			}
			if s.from != from {
				t.Errorf("from %q", s.from)
			}
			c, err := gomail.NewClient(s.host, s.options...)
			if err != nil {
				t.Fatalf("the options do not make a client: %v", err)
			}
			if got := c.ServerAddr(); got != tc.addr {
				t.Errorf("server address %q, want %q", got, tc.addr)
			}
			if tc.policy != "" && c.TLSPolicy() != tc.policy {
				t.Errorf("TLS policy %q, want %q", c.TLSPolicy(), tc.policy)
			}
		})
	}

	for _, tc := range []struct{ name, url, from, wantErr string }{
		{"ErrScheme", "http://x", from, "scheme"},
		{"ErrNoHost", "smtp://", from, "SMTP_URL"},
		{"ErrNotAURL", "host:25", from, "SMTP_URL"},
		{"ErrBadPort", "smtp://host:port", from, "SMTP_URL"},
		{"ErrStartTLS", "smtp://host:25?starttls=bogus", from, "starttls"},
		{"ErrNoFrom", "smtp://host:25", "", "MAIL_FROM"},
		{"ErrBadFrom", "smtp://host:25", "not an address", "MAIL_FROM"},
		{"ErrFromHeaderInjection", "smtp://host:25", "a@example.com\r\nBcc: evil@example.com", "MAIL_FROM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSMTP(tc.url, tc.from)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewSMTP(%q, %q) = %v, %v; want an error mentioning %s", tc.url, tc.from, s, err, tc.wantErr)
			}
		})
	}
}

// TestSMTPSend sends through a local server that requires CRAM-MD5 (the
// kind of AUTH go-mail will use without TLS): the credentials come from the
// URL, unescaped, and the message carries the rendered parts.
func TestSMTPSend(t *testing.T) {
	srv := smtptest.New(t)
	srv.RequireAuth("us@er", "p:ss w0rd")
	s, err := NewSMTP("smtp://us%40er:p%3Ass%20w0rd@"+srv.Addr()+"?starttls=none", "Taskwire <noreply@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := Message{To: "bob@example.com", ToName: "bob", Subject: "Hello\r\nBcc: evil@example.com",
		Text: "plain body", HTML: "<p>html body</p>", MessageID: "taskwire-email-7@taskwire"}
	if err := s.Send(ctx, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	// One transaction, delivered: no recipient went into another one.
	msgs := srv.Messages()
	if len(msgs) != 1 || srv.Transactions() != 1 {
		t.Fatalf("%d messages delivered in %d transactions, want 1", len(msgs), srv.Transactions())
	}
	sent := msgs[0]
	if sent.AuthUser != "us@er" {
		t.Errorf("authenticated as %q, want us@er (the password must match too)", sent.AuthUser)
	}
	if len(sent.Rcpt) != 1 || sent.Rcpt[0] != "bob@example.com" {
		t.Errorf("recipients %v", sent.Rcpt)
	}
	msg, err := mail.ReadMessage(strings.NewReader(sent.Raw))
	if err != nil {
		t.Fatalf("%v\n%s", err, sent.Raw)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Hello  Bcc: evil@example.com" || msg.Header.Get("Bcc") != "" {
		t.Errorf("Subject %q, Bcc %q: a line break in the subject must become a space", subject, msg.Header.Get("Bcc"))
	}
	if got := msg.Header.Get("Message-ID"); got != "<taskwire-email-7@taskwire>" {
		t.Errorf("Message-ID %q", got)
	}
	if got := msg.Header.Get("To"); got != `"bob" <bob@example.com>` {
		t.Errorf("To %q", got)
	}
	if got := msg.Header.Get("From"); !strings.Contains(got, "<noreply@example.com>") {
		t.Errorf("From %q", got)
	}
	body := sent.Raw
	for _, want := range []string{"multipart/alternative", "text/plain", "plain body", "text/html", "<p>html body</p>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the message lacks %q:\n%s", want, body)
		}
	}
}

func TestRender(t *testing.T) {
	taskID := int64(42)
	for _, tc := range []struct {
		name      string
		email     taskwire.Email
		baseURL   string
		subject   string
		link      string
		text      []string // in the plain text part
		html      []string // in the HTML part
		notInHTML []string
	}{
		{
			name: "OKTaskAssigned",
			email: taskwire.Email{Kind: taskwire.NotifyTaskAssigned, To: "bob@example.com", ToName: "bob", ActorUsername: "olga",
				ProjectID: 7, ProjectName: "Apollo", TaskID: taskID, TaskTitle: "Write the docs", TaskStatus: taskwire.StatusInProgress},
			baseURL: "https://app.example",
			subject: "[Taskwire] olga assigned you \u201cWrite the docs\u201d in Apollo",
			link:    "https://app.example/projects/7/tasks/42",
			text:    []string{"Hi bob,", "olga assigned you a task in Apollo", "Write the docs (in_progress)", "Open it: https://app.example/projects/7/tasks/42", `"task_assigned": false`},
			html:    []string{"<p>Hi bob,</p>", "<strong>olga</strong>", "<strong>Apollo</strong>", "Write the docs", `<a href="https://app.example/projects/7/tasks/42">`},
		},
		{
			name: "OKMemberAdded",
			email: taskwire.Email{Kind: taskwire.NotifyMemberAdded, To: "bob@example.com", ToName: "bob", ActorUsername: "olga",
				ProjectID: 7, ProjectName: "Apollo"},
			baseURL: "https://app.example/", // the trailing slash is not doubled
			subject: "[Taskwire] olga added you to Apollo",
			link:    "https://app.example/projects/7",
			text:    []string{"Hi bob,", "olga added you to the project Apollo.", "Open it: https://app.example/projects/7\n", `"member_added": false`},
			html:    []string{"<strong>olga</strong>", "<strong>Apollo</strong>", `<a href="https://app.example/projects/7">`},
		},
		{
			name: "OKMentioned",
			email: taskwire.Email{Kind: taskwire.NotifyMentioned, To: "bob@example.com", ToName: "bob", ActorUsername: "olga",
				ProjectID: 7, ProjectName: "Apollo", TaskID: taskID, TaskTitle: "Write the docs", TaskStatus: taskwire.StatusTodo,
				CommentID: 3, CommentExcerpt: "@bob can you review <this> & that?"},
			baseURL: "https://app.example",
			subject: "[Taskwire] olga mentioned you on \u201cWrite the docs\u201d in Apollo",
			link:    "https://app.example/projects/7/tasks/42",
			text: []string{"Hi bob,", "olga mentioned you in a comment on a task in Apollo", "Write the docs (todo)",
				`"@bob can you review <this> & that?"`, "Open it: https://app.example/projects/7/tasks/42", `"mentioned": false`},
			html: []string{"<strong>olga</strong>", "<strong>Apollo</strong>", "Write the docs",
				"@bob can you review &lt;this&gt; &amp; that?", `<a href="https://app.example/projects/7/tasks/42">`},
			notInHTML: []string{"<this>"},
		},
		{
			name: "OKMarkupEscapedInHTML",
			email: taskwire.Email{Kind: taskwire.NotifyTaskAssigned, ToName: "bob", ActorUsername: "olga",
				ProjectID: 1, ProjectName: "A & B", TaskID: 2, TaskTitle: `<script>alert("x")</script>`, TaskStatus: taskwire.StatusTodo},
			baseURL:   "http://app.example",
			subject:   "[Taskwire] olga assigned you \u201c<script>alert(\"x\")</script>\u201d in A & B",
			link:      "http://app.example/projects/1/tasks/2",
			text:      []string{`<script>alert("x")</script> (todo)`, "in A & B:"},
			html:      []string{"&lt;script&gt;", "A &amp; B"},
			notInHTML: []string{"<script>"},
		},
		{
			name: "OKLineBreaksStayOnOneSubjectLine",
			email: taskwire.Email{Kind: taskwire.NotifyTaskAssigned, ToName: "bob", ActorUsername: "olga",
				ProjectID: 1, ProjectName: "Apollo\r\nX-Evil: 1", TaskID: 2, TaskTitle: "Ship it\r\nBcc: evil@example.com\nnext\u2028line\u0085end", TaskStatus: taskwire.StatusTodo},
			baseURL: "http://app.example",
			subject: "[Taskwire] olga assigned you \u201cShip it  Bcc: evil@example.com next line end\u201d in Apollo  X-Evil: 1",
			link:    "http://app.example/projects/1/tasks/2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := render(tc.email, tc.baseURL, "mid@taskwire")
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject {
				t.Errorf("subject\n%q, want\n%q", m.Subject, tc.subject)
			}
			if strings.ContainsAny(m.Subject, "\r\n\u0085\u2028\u2029") {
				t.Errorf("subject %q spans lines", m.Subject)
			}
			if m.To != tc.email.To || m.ToName != tc.email.ToName || m.MessageID != "mid@taskwire" {
				t.Errorf("To %q, ToName %q, MessageID %q", m.To, m.ToName, m.MessageID)
			}
			if got := link(tc.email, tc.baseURL); got != tc.link {
				t.Errorf("link %q, want %q", got, tc.link)
			}
			if !strings.Contains(m.Text, tc.link) || !strings.Contains(m.HTML, `href="`+tc.link+`"`) {
				t.Errorf("both parts must link %s:\n%s\n%s", tc.link, m.Text, m.HTML)
			}
			for _, want := range tc.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			for _, want := range tc.html {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
				}
			}
			for _, bad := range tc.notInHTML {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML holds %q:\n%s", bad, m.HTML)
				}
			}
		})
	}
}

// TestRenderEveryEmailKind: every kind that sends email has both
// templates, the invitation's too.
func TestRenderEveryEmailKind(t *testing.T) {
	for _, k := range append(slices.Clone(taskwire.EmailKinds), taskwire.EmailInvitation) {
		if _, err := render(taskwire.Email{Kind: k, ProjectID: 1, TaskID: 1}, "http://x", "id"); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{base: 10 * time.Second, max: time.Hour}
	for _, tc := range []struct {
		name    string
		attempt int
		want    time.Duration
	}{
		{"OKNoAttemptYet", 0, 10 * time.Second},
		{"OKFirst", 1, 10 * time.Second},
		{"OKSecond", 2, 20 * time.Second},
		{"OKThird", 3, 40 * time.Second},
		{"OKEighth", 8, 1280 * time.Second},
		{"OKCapped", 10, time.Hour}, // 5120 s
		{"OKCappedFar", 64, time.Hour},
		{"OKCappedOverflow", 5000, time.Hour}, // 2^4999 is +Inf as a float
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			next := b.NextRetry(&rivertype.JobRow{Attempt: tc.attempt})
			after := time.Now()
			if next.Before(before.Add(tc.want)) || next.After(after.Add(tc.want)) {
				t.Fatalf("attempt %d: retry in %v, want %v", tc.attempt, next.Sub(before), tc.want)
			}
		})
	}
}

// TestOptionsDefaults checks the defaults the configuration documents
// (EMAIL_DEBOUNCE, EMAIL_MAX_ATTEMPTS, EMAIL_RETRY_BASE "up to an hour"),
// and that a negative debounce, which EMAIL_DEBOUNCE=0 becomes, sends at
// once.
func TestOptionsDefaults(t *testing.T) {
	type policy struct {
		Debounce, RetryBase, RetryMax time.Duration
		MaxAttempts                   int
	}
	for _, tc := range []struct {
		name string
		in   Options
		want policy
	}{
		{"OKZero", Options{}, policy{10 * time.Second, 10 * time.Second, time.Hour, 10}},
		{"OKNegativeDebounceSendsAtOnce", Options{Debounce: -1}, policy{0, 10 * time.Second, time.Hour, 10}},
		{"OKKept", Options{Debounce: time.Second, MaxAttempts: 2, RetryBase: time.Millisecond, RetryMax: time.Minute},
			policy{time.Second, time.Millisecond, time.Minute, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.in
			o.defaults()
			if got := (policy{o.Debounce, o.RetryBase, o.RetryMax, o.MaxAttempts}); got != tc.want {
				t.Fatalf("defaults: %+v, want %+v", got, tc.want)
			}
			if o.Workers <= 0 || o.PollInterval <= 0 {
				t.Fatalf("defaults left Workers %d, PollInterval %v", o.Workers, o.PollInterval)
			}
		})
	}
}

// TestRenderInvitation: an invitation's link is the web app's page for its
// token under BASE_URL, in both parts, with no name to greet.
func TestRenderInvitation(t *testing.T) {
	e := taskwire.Email{Kind: taskwire.EmailInvitation, To: "dee@example.com", ActorUsername: "olga", ProjectID: 7,
		ProjectName: "Apollo", Token: "abc_DEF-123", ExpiresAt: time.Date(2031, 1, 2, 3, 4, 0, 0, time.UTC)}
	m, err := render(e, "https://tw.example/", "id")
	if err != nil {
		t.Fatal(err)
	}
	link := "https://tw.example/app/invite/abc_DEF-123"
	if m.Subject != "[Taskwire] olga invited you to Apollo" || m.To != "dee@example.com" || m.ToName != "" {
		t.Errorf("subject %q to %q %q", m.Subject, m.ToName, m.To)
	}
	for _, part := range []string{m.Text, m.HTML} {
		for _, want := range []string{link, "Apollo", "olga", "Thu 2 Jan 2031 03:04 UTC"} {
			if !strings.Contains(part, want) {
				t.Errorf("a part lacks %q:\n%s", want, part)
			}
		}
	}
}
