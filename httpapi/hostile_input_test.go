package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire"
)

// Hostile input over the real server, on whichever store the env picks
// (SQLite, or PostgreSQL with TASKWIRE_TEST_STORE=postgres): bodies over the
// size limit, deeply nested JSON, and text that breaks naive SQL, LIKE
// patterns, encodings or normalisation, which must come back byte for byte
// from every read path: the create answer, GET, lists, the event log and
// the WebSocket.

// hostileStrings are stored in every text field that allows them. Each is
// at most 150 characters, so that it fits every field.
var hostileStrings = []struct{ name, s string }{
	{"SingleQuote", "'"},
	{"DoubleQuote", `"`},
	{"QuotesMixed", `O'Reilly "quoted" 'single' ''doubled''`},
	{"DropTable", "'; DROP TABLE tasks; --"},
	{"DropTableUsers", `"); DROP TABLE users; --`},
	{"OrTrue", "' OR '1'='1"},
	{"UnionSelect", "x' UNION SELECT id, hashed_password FROM users --"},
	{"Percent", "%"},
	{"Underscore", "_"},
	{"LikeWildcards", "%_%"},
	{"LikeEscape", `a\%b\_c ESCAPE '\'`},
	{"Backslash", `\`},
	{"BackslashQuote", `\'`},
	{"BackslashEscapes", `\n\t\0\x00\u0000\\`},
	{"Placeholders", "$1 $$ $body$ ? :name @p1 %s %v"},
	{"SQLComment", "/* comment */ -- tail #"},
	{"Semicolons", ";;;"},
	{"Emoji", "🚀🔥💩"},
	{"ZWJSequence", "👩\u200d👩\u200d👧\u200d👦"},
	{"Flags", "🇫🇷🇯🇵"},
	{"SkinTone", "👍🏽"},
	{"RTLMark", "abc\u200fdef\u200e"},
	{"RTLOverride", "\u202egnp.exe"},
	{"Bidi", "שלום مرحبا hello"},
	{"CombiningAcute", "e\u0301"}, // decomposed é: must not become U+00E9
	{"Precomposed", "\u00e9"},
	{"StackedCombining", "Z\u0351\u0358\u0344\u0300\u0301\u0302\u0303"},
	{"Angstrom", "\u212b"}, // must not be normalised to U+00C5
	{"FourByte", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎𠜱"},
	{"MaxCodePoint", "\U0010ffff"},
	{"Noncharacter", "\ufffe\uffff"},
	{"BOM", "\ufeffbom"},
	{"ZeroWidth", "a\u200bb\u200cc\u200dd"},
	{"Fullwidth", "ＳＥＬＥＣＴ ＊"},
	{"HTML", `<script>alert("x")</script>&amp;`},
	{"Template", "{{.Secret}} ${jndi:ldap://x/a}"},
	{"JSONish", `{"title":null,"id":1}`},
	{"CJK", "東京タワー"},
	{"Tab", "a\tb"},
	{"Newlines", "line1\nline2\r\nline3\r"},
	{"LineSeparator", "a\u2028b\u2029c"},
	{"C1Control", "a\u0085b"},
	{"DEL", "a\u007fb"},
	{"Escape", "\u001b[31mred\u001b[0m"},
	{"Spaces", "  padded  "},
	{"OnlySpace", " "},
	{"Long4Byte150", strings.Repeat("😀", 150)},
}

// hostileEmails are tried at signup: the valid ones (by the domain's rule)
// must round-trip, the others must be refused with 422.
var hostileEmails = []string{
	"o'brien@example.com",
	"x%y@example.com",
	"under_score@example.com",
	"plus+tag@example.com",
	"drop'table--@example.com",
	"a!#$&'*+/=?^`{|}~-@example.com",
	"user@xn--bcher-kva.example",
	"üñîçøðé@example.com",
	"😀@example.com",
	strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com", // 254 bytes
	"a\r\n@example.com",
	"a@example.com\r\nBcc: evil@example.com",
	"a@example.com\nBcc: evil@example.com",
	`"quoted"@example.com`,
	`a\b@example.com`,
	"a;b@example.com",
	"a b@example.com",
	"Eve <eve@example.com>",
	"a@b",
	"%@%",
	"'; DROP TABLE users; --@example.com",
	"nul\x00@example.com",
	strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".com", // 255 bytes
}

// hostileWorld is a server with an owner, a project and the owner's socket
// on it (opened from seq 0, so it sees every event of the project).
type hostileWorld struct {
	t       *testing.T
	e       *env
	ctx     context.Context
	ownerID int64
	owner   string
	pid     int64
	ws      *websocket.Conn
	seq     int64 // the last seq read from ws
}

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard, not a timing assertion
	t.Cleanup(cancel)
	w := &hostileWorld{t: t, e: e, ctx: ctx}
	w.ownerID, w.owner = e.user("owner")
	w.pid = e.project(w.owner)
	w.ws = rtDialSince(t, ctx, e, w.pid, w.owner, 0)
	// A task may carry 20000 four-byte characters; the client's default
	// 32 KiB read limit would refuse its event.
	w.ws.SetReadLimit(1 << 20)
	return w
}

// nextEvent reads the socket's next log event and checks that it follows
// the previous one and has the wanted type.
func (w *hostileWorld) nextEvent(t *testing.T, typ string) map[string]any {
	t.Helper()
	ev := read(t, w.ctx, w.ws)
	if ev.Event != typ || ev.Seq != w.seq+1 {
		t.Fatalf("socket event %s seq %d, want %s seq %d", ev.Event, ev.Seq, typ, w.seq+1)
	}
	w.seq = ev.Seq
	var data map[string]any
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatalf("event data %s: %v", ev.Data, err)
	}
	return data
}

// hostileStatus fails unless r has the status; a 5xx is called out.
func hostileStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s: server error %d %s", what, r.Status, truncate(r.Body))
	}
	if r.Status != want {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, truncate(r.Body), want)
	}
}

// hostileObject decodes a JSON object body.
func hostileObject(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: decode %s: %v", what, truncate(b), err)
	}
	return m
}

// hostileText asserts that m[key] is exactly want (a string, or nil for null).
func hostileText(t *testing.T, where string, m map[string]any, key string, want any) {
	t.Helper()
	got, ok := m[key]
	if !ok {
		t.Errorf("%s: no %q in %v", where, key, m)
		return
	}
	if got != want {
		t.Errorf("%s: %s altered:\n got %+q\nwant %+q", where, key, got, want)
	}
}

func TestHostileTextTasks(t *testing.T) {
	w := newHostileWorld(t)
	e := w.e
	type value struct{ name, s string }
	var values []value
	for _, h := range hostileStrings {
		values = append(values, value{h.name, h.s})
	}
	values = append(values,
		value{"Long4ByteTitleMax", strings.Repeat("𝔘", taskwire.MaxTitleLen)},
		value{"LongMixedTitleMax", strings.Repeat("é'%_\\😀", taskwire.MaxTitleLen/6) + "ab"},
	)
	longDesc := strings.Repeat("😀'\"%_\\\u200f", taskwire.MaxDescriptionLen/7) + "x"
	if utf8.RuneCountInString(longDesc) > taskwire.MaxDescriptionLen || utf8.RuneCountInString(values[len(values)-1].s) != taskwire.MaxTitleLen {
		t.Fatal("long values miscounted")
	}

	type stored struct{ title, description string }
	want := map[int64]stored{}
	tasksPath := "/api/v1/projects/" + itoa(w.pid) + "/tasks"
	for i, v := range values {
		t.Run(v.name, func(t *testing.T) {
			desc := v.s
			if i == len(values)-1 {
				desc = longDesc
			}
			r := e.do("POST", tasksPath, w.owner, map[string]any{"title": v.s, "description": desc})
			hostileStatus(t, "create", r, http.StatusCreated)
			created := hostileObject(t, "create", r.Body)
			hostileText(t, "create answer", created, "title", v.s)
			hostileText(t, "create answer", created, "description", desc)
			id := int64(created["id"].(float64))
			ev := w.nextEvent(t, "task_created")
			hostileText(t, "task_created event", ev, "title", v.s)
			hostileText(t, "task_created event", ev, "description", desc)

			r = e.do("GET", "/api/v1/tasks/"+itoa(id), w.owner, nil)
			hostileStatus(t, "get", r, http.StatusOK)
			got := hostileObject(t, "get", r.Body)
			hostileText(t, "GET", got, "title", v.s)
			hostileText(t, "GET", got, "description", desc)

			// Update to the next value: title and description change, and
			// the event carries the new text.
			next := values[(i+1)%len(values)].s
			r = e.do("PUT", "/api/v1/tasks/"+itoa(id), w.owner, map[string]any{"title": next, "description": v.s + next})
			if utf8.RuneCountInString(v.s+next) > taskwire.MaxDescriptionLen {
				t.Fatal("update description too long")
			}
			hostileStatus(t, "update", r, http.StatusOK)
			updated := hostileObject(t, "update", r.Body)
			hostileText(t, "update answer", updated, "title", next)
			hostileText(t, "update answer", updated, "description", v.s+next)
			ev = w.nextEvent(t, "task_updated")
			hostileText(t, "task_updated event", ev, "title", next)
			hostileText(t, "task_updated event", ev, "description", v.s+next)
			want[id] = stored{next, v.s + next}

			// Filters and search-like reads with the text as a parameter
			// must not match anything by pattern.
			r = e.do("GET", tasksPath+"?status="+url.QueryEscape(v.s), w.owner, nil)
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("status filter %+q: %d %s, want 422", v.s, r.Status, truncate(r.Body))
			}
		})
	}

	t.Run("List", func(t *testing.T) {
		r := e.do("GET", tasksPath, w.owner, nil)
		hostileStatus(t, "list", r, http.StatusOK)
		var list []map[string]any
		r.JSON(t, &list)
		if len(list) != len(want) {
			t.Fatalf("list has %d tasks, want %d", len(list), len(want))
		}
		for _, m := range list {
			id := int64(m["id"].(float64))
			hostileText(t, "list task "+itoa(id), m, "title", want[id].title)
			hostileText(t, "list task "+itoa(id), m, "description", want[id].description)
		}
		// Paging goes through the same rows.
		ids, _ := collectPages(t, e, w.owner, tasksPath+"?limit=7", 7)
		if len(ids) != len(want) {
			t.Fatalf("paging returned %d tasks, want %d", len(ids), len(want))
		}
	})

	t.Run("EventLogMatchesSocket", func(t *testing.T) {
		r := e.do("GET", "/api/v1/projects/"+itoa(w.pid)+"/events", w.owner, nil)
		hostileStatus(t, "events", r, http.StatusOK)
		var evs []struct {
			Seq  int64
			Data map[string]any
		}
		r.JSON(t, &evs)
		if int64(len(evs)) != w.seq {
			t.Fatalf("log has %d events, socket saw %d", len(evs), w.seq)
		}
		// Every odd event created a task with values[i], every even one
		// updated it.
		for i, ev := range evs {
			v := values[i/2]
			if i%2 == 0 {
				hostileText(t, "log create event", ev.Data, "title", v.s)
			} else {
				hostileText(t, "log update event", ev.Data, "title", values[(i/2+1)%len(values)].s)
			}
		}
	})
}

func TestHostileTextProjects(t *testing.T) {
	w := newHostileWorld(t)
	e := w.e
	values := append([]struct{ name, s string }{}, hostileStrings...)
	values = append(values, struct{ name, s string }{"Long4ByteNameMax", strings.Repeat("𠜎", taskwire.MaxProjectNameLen)})
	want := map[int64]string{}
	for i, v := range values {
		t.Run(v.name, func(t *testing.T) {
			// A project named and described with the text.
			r := e.do("POST", "/api/v1/projects/", w.owner, map[string]any{"name": v.s, "description": v.s})
			hostileStatus(t, "create", r, http.StatusCreated)
			p := hostileObject(t, "create", r.Body)
			hostileText(t, "create answer", p, "name", v.s)
			hostileText(t, "create answer", p, "description", v.s)
			id := int64(p["id"].(float64))
			want[id] = v.s
			r = e.do("GET", "/api/v1/projects/"+itoa(id), w.owner, nil)
			hostileStatus(t, "get", r, http.StatusOK)
			got := hostileObject(t, "get", r.Body)
			hostileText(t, "GET", got, "name", v.s)
			hostileText(t, "GET", got, "description", v.s)

			// The watched project renamed to it: project_updated carries it.
			desc := values[(i+1)%len(values)].s
			r = e.do("PATCH", "/api/v1/projects/"+itoa(w.pid), w.owner, map[string]any{"name": v.s, "description": desc})
			hostileStatus(t, "patch", r, http.StatusOK)
			patched := hostileObject(t, "patch", r.Body)
			hostileText(t, "patch answer", patched, "name", v.s)
			hostileText(t, "patch answer", patched, "description", desc)
			ev := w.nextEvent(t, "project_updated")
			hostileText(t, "project_updated event", ev, "name", v.s)
			hostileText(t, "project_updated event", ev, "description", desc)
			r = e.do("GET", "/api/v1/projects/"+itoa(w.pid), w.owner, nil)
			hostileStatus(t, "get watched", r, http.StatusOK)
			hostileText(t, "GET watched", hostileObject(t, "get watched", r.Body), "name", v.s)
		})
	}
	t.Run("List", func(t *testing.T) {
		r := e.do("GET", "/api/v1/projects/", w.owner, nil)
		hostileStatus(t, "list", r, http.StatusOK)
		var list []map[string]any
		r.JSON(t, &list)
		if len(list) != len(want)+1 {
			t.Fatalf("list has %d projects, want %d", len(list), len(want)+1)
		}
		for _, m := range list {
			id := int64(m["id"].(float64))
			if id == w.pid {
				hostileText(t, "list watched", m, "name", values[len(values)-1].s)
				continue
			}
			hostileText(t, "list project "+itoa(id), m, "name", want[id])
			hostileText(t, "list project "+itoa(id), m, "description", want[id])
		}
	})
}

// TestHostileTextUsers: usernames and emails the domain accepts round-trip
// through signup, login, /users/me, lookup, project members and the
// member_added event; the others are refused with 422 and leave no user.
func TestHostileTextUsers(t *testing.T) {
	w := newHostileWorld(t)
	e := w.e
	type member struct{ email, username string }
	members := map[int64]member{}
	check := func(t *testing.T, email, username string) {
		t.Helper()
		valid := taskwire.Signup{Email: email, Username: username, Password: "password123"}.Validate() == nil
		r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{"email": email, "username": username, "password": "password123"})
		if !valid {
			hostileStatus(t, "signup (invalid by the domain's rule)", r, http.StatusUnprocessableEntity)
			for _, q := range []string{"username=" + url.QueryEscape(username), "email=" + url.QueryEscape(email)} {
				if l := e.do("GET", "/api/v1/users/lookup?"+q, w.owner, nil); l.Status != http.StatusNotFound && l.Status != http.StatusUnprocessableEntity {
					t.Errorf("lookup %s after a refused signup: %d %s", q, l.Status, truncate(l.Body))
				}
			}
			return
		}
		hostileStatus(t, "signup", r, http.StatusCreated)
		u := hostileObject(t, "signup", r.Body)
		hostileText(t, "signup answer", u, "username", username)
		hostileText(t, "signup answer", u, "email", email)
		id := int64(u["id"].(float64))

		for _, login := range []string{username, email} {
			r = e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {login}, "password": {"password123"}})
			hostileStatus(t, "login as "+login, r, http.StatusOK)
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			r.JSON(t, &tok)
			r = e.do("GET", "/api/v1/users/me", tok.AccessToken, nil)
			hostileStatus(t, "me", r, http.StatusOK)
			me := hostileObject(t, "me", r.Body)
			hostileText(t, "/users/me after login with "+login, me, "username", username)
			hostileText(t, "/users/me after login with "+login, me, "email", email)
			if me["id"] != float64(id) {
				t.Fatalf("login %+q signed in as %v, want %d", login, me["id"], id)
			}
		}
		r = e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {username}, "password": {"wrong-password"}})
		hostileStatus(t, "login with a wrong password", r, http.StatusUnauthorized)

		for _, q := range []string{"username=" + url.QueryEscape(username), "email=" + url.QueryEscape(email)} {
			r = e.do("GET", "/api/v1/users/lookup?"+q, w.owner, nil)
			hostileStatus(t, "lookup "+q, r, http.StatusOK)
			ref := hostileObject(t, "lookup", r.Body)
			hostileText(t, "lookup "+q, ref, "username", username)
			if ref["id"] != float64(id) {
				t.Errorf("lookup %s found %v, want %d", q, ref["id"], id)
			}
		}

		// Added by username; member_added carries the name.
		r = e.do("POST", "/api/v1/projects/"+itoa(w.pid)+"/members", w.owner, map[string]any{"username": username})
		hostileStatus(t, "add member by username", r, http.StatusCreated)
		ev := w.nextEvent(t, "member_added")
		if ev["user_id"] != float64(id) {
			t.Fatalf("member_added for %v, want %d", ev["user_id"], id)
		}
		evUser, _ := ev["user"].(map[string]any)
		hostileText(t, "member_added event user", evUser, "username", username)
		members[id] = member{email, username}
	}

	for i, h := range hostileStrings {
		t.Run("Username"+h.name, func(t *testing.T) { check(t, "user"+itoa(int64(i))+"@example.com", h.s) })
	}
	t.Run("UsernameMax4Byte", func(t *testing.T) {
		check(t, "max@example.com", strings.Repeat("𝔘", taskwire.MaxUsernameLen))
	})
	t.Run("ErrUsernameTooLong", func(t *testing.T) {
		check(t, "over@example.com", strings.Repeat("𝔘", taskwire.MaxUsernameLen+1))
	})
	for i, email := range hostileEmails {
		t.Run("Email"+itoa(int64(i)), func(t *testing.T) { check(t, email, "mail"+itoa(int64(i))) })
	}
	// Added by email too.
	t.Run("AddByEmail", func(t *testing.T) {
		email := "o'brien+%_x@example.com"
		r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{"email": email, "username": "by-email", "password": "password123"})
		hostileStatus(t, "signup", r, http.StatusCreated)
		id := int64(hostileObject(t, "signup", r.Body)["id"].(float64))
		r = e.do("POST", "/api/v1/projects/"+itoa(w.pid)+"/members", w.owner, map[string]any{"email": email})
		hostileStatus(t, "add member by email", r, http.StatusCreated)
		ev := w.nextEvent(t, "member_added")
		if ev["user_id"] != float64(id) {
			t.Fatalf("member_added for %v, want %d", ev["user_id"], id)
		}
		members[id] = member{email, "by-email"}
	})

	t.Logf("%d hostile usernames/emails accepted and round-tripped, the rest refused with 422", len(members))
	t.Run("ProjectMembers", func(t *testing.T) {
		r := e.do("GET", "/api/v1/projects/"+itoa(w.pid), w.owner, nil)
		hostileStatus(t, "get project", r, http.StatusOK)
		var p struct {
			Members []struct {
				UserID int64 `json:"user_id"`
				User   map[string]any
			}
		}
		r.JSON(t, &p)
		if len(p.Members) != len(members)+1 {
			t.Fatalf("%d members, want %d", len(p.Members), len(members)+1)
		}
		for _, m := range p.Members {
			if m.UserID == w.ownerID {
				continue
			}
			want, ok := members[m.UserID]
			if !ok {
				t.Fatalf("unexpected member %d", m.UserID)
			}
			hostileText(t, "member "+itoa(m.UserID), m.User, "username", want.username)
			hostileText(t, "member "+itoa(m.UserID), m.User, "email", want.email)
		}
	})
}

// TestHostileLookupIsExact: LIKE wildcards and case in a lookup, a login or
// an add-member name match only that exact user.
func TestHostileLookupIsExact(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	pid := e.project(owner)
	ids := map[string]int64{}
	for _, name := range []string{"abc", "a_c", "a%c", "ABC", `a\c`} {
		r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{
			"email": strings.NewReplacer("%", "pct", "_", "us", `\`, "bs").Replace(name) + "@example.com", "username": name, "password": "pw-" + name})
		hostileStatus(t, "signup "+name, r, http.StatusCreated)
		ids[name] = int64(hostileObject(t, "signup", r.Body)["id"].(float64))
	}
	for _, name := range []string{"abc", "a_c", "a%c", "ABC", `a\c`} {
		t.Run("Lookup"+name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users/lookup?username="+url.QueryEscape(name), owner, nil)
			hostileStatus(t, "lookup", r, http.StatusOK)
			if got := hostileObject(t, "lookup", r.Body)["id"]; got != float64(ids[name]) {
				t.Fatalf("lookup %q found user %v, want %d", name, got, ids[name])
			}
		})
	}
	for _, pattern := range []string{"a%", "%", "_", "a_", "___", "%c", "ab_", "a__", "A%", "abc%", "a%%c", `a\_c`, `a\%c`, "Abc", "abc ", " abc", "ab"} {
		t.Run("ErrLookupPattern"+pattern, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users/lookup?username="+url.QueryEscape(pattern), owner, nil)
			hostileStatus(t, "lookup", r, http.StatusNotFound)
			r = e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {pattern}, "password": {"pw-abc"}})
			hostileStatus(t, "login", r, http.StatusUnauthorized)
			r = e.do("POST", "/api/v1/projects/"+itoa(pid)+"/members", owner, map[string]any{"username": pattern})
			hostileStatus(t, "add member", r, http.StatusNotFound)
		})
	}
	for _, pattern := range []string{"%@example.com", "a_c@%", "abc@example.co_", "ABC@EXAMPLE.COM", "%"} {
		t.Run("ErrEmailPattern"+pattern, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users/lookup?email="+url.QueryEscape(pattern), owner, nil)
			if r.Status != http.StatusNotFound {
				t.Fatalf("lookup email %q: %d %s, want 404", pattern, r.Status, truncate(r.Body))
			}
		})
	}
	// One user's password does not open another whose name it matches by pattern.
	t.Run("ErrLoginOtherUsersPassword", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {"a_c"}, "password": {"pw-abc"}})
		hostileStatus(t, "login", r, http.StatusUnauthorized)
	})
}

// TestHostileTextRefused: text no field may hold is refused with 422 and
// stores nothing.
func TestHostileTextRefused(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	pid := e.project(owner)
	task := e.task(owner, pid, "keep")
	tasksPath := "/api/v1/projects/" + itoa(pid) + "/tasks"
	for _, tc := range []struct{ name, method, path, body string }{
		{"TitleNUL", "POST", tasksPath, `{"title": "a\u0000b"}`},
		{"DescriptionNUL", "POST", tasksPath, `{"title": "t", "description": "\u0000"}`},
		{"TitleLoneSurrogate", "POST", tasksPath, `{"title": "\ud800"}`},
		{"TitleInvalidUTF8", "POST", tasksPath, "{\"title\": \"\xff\xfe\"}"},
		{"TitleOverlongUTF8", "POST", tasksPath, "{\"title\": \"\xc0\xaf\"}"},
		{"TitleCESU8Surrogate", "POST", tasksPath, "{\"title\": \"\xed\xa0\x80\"}"},
		{"TitleTooLong", "POST", tasksPath, `{"title": "` + strings.Repeat("𝔘", taskwire.MaxTitleLen+1) + `"}`},
		{"DescriptionTooLong", "POST", tasksPath, `{"title": "t", "description": "` + strings.Repeat("😀", taskwire.MaxDescriptionLen+1) + `"}`},
		{"UpdateTitleNUL", "PUT", "/api/v1/tasks/" + itoa(task.ID), `{"title": "\u0000"}`},
		{"UpdateDescriptionInvalidUTF8", "PUT", "/api/v1/tasks/" + itoa(task.ID), "{\"description\": \"\x80\"}"},
		{"UpdateTitleTooLong", "PUT", "/api/v1/tasks/" + itoa(task.ID), `{"title": "` + strings.Repeat("é", taskwire.MaxTitleLen+1) + `"}`},
		{"ProjectNameNUL", "POST", "/api/v1/projects/", `{"name": "\u0000"}`},
		{"ProjectNameTooLong", "POST", "/api/v1/projects/", `{"name": "` + strings.Repeat("𠜎", taskwire.MaxProjectNameLen+1) + `"}`},
		{"ProjectDescriptionInvalidUTF8", "POST", "/api/v1/projects/", "{\"name\": \"p\", \"description\": \"\xff\"}"},
		{"PatchProjectNameNUL", "PATCH", "/api/v1/projects/" + itoa(pid), `{"name": "x\u0000"}`},
		{"SignupUsernameNUL", "POST", "/api/v1/auth/signup", `{"email": "n@example.com", "username": "n\u0000", "password": "password123"}`},
		{"SignupEmailCRLF", "POST", "/api/v1/auth/signup", `{"email": "n@example.com\r\nBcc: evil@example.com", "username": "n", "password": "password123"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, owner, tc.body)
			hostileStatus(t, tc.name, r, http.StatusUnprocessableEntity)
			expectInvalid(t, r, nil, "")
		})
	}
	// Nothing was stored or changed.
	r := e.do("GET", tasksPath, owner, nil)
	var list []taskwire.Task
	r.JSON(t, &list)
	if len(list) != 1 || list[0].Title != "keep" || list[0].Description != nil || list[0].Version != 1 {
		t.Fatalf("tasks after refused writes: %+v", list)
	}
	r = e.do("GET", "/api/v1/projects/", owner, nil)
	var projects []taskwire.Project
	r.JSON(t, &projects)
	if len(projects) != 1 || projects[0].Name != "Project" {
		t.Fatalf("projects after refused writes: %+v", projects)
	}
	if l := e.do("GET", "/api/v1/users/lookup?email=n%40example.com", owner, nil); l.Status != http.StatusNotFound {
		t.Fatalf("a refused signup left a user: %d %s", l.Status, l.Body)
	}
}

// hostileBodyRoute is a JSON route with a body that the route would accept
// but for the padding string p placed in it (too long a field, or an extra
// member).
type hostileBodyRoute struct {
	name, method, path string
	body               func(pad string) map[string]any
}

func hostileRoutes(pid, taskID, otherUser int64) []hostileBodyRoute {
	return []hostileBodyRoute{
		{"Signup", "POST", "/api/v1/auth/signup", func(p string) map[string]any {
			return map[string]any{"email": "big@example.com", "username": "big", "password": "password123" + p}
		}},
		{"CreateProject", "POST", "/api/v1/projects/", func(p string) map[string]any { return map[string]any{"name": "P", "description": p} }},
		{"PatchProject", "PATCH", "/api/v1/projects/" + itoa(pid), func(p string) map[string]any { return map[string]any{"description": p} }},
		{"AddMember", "POST", "/api/v1/projects/" + itoa(pid) + "/members", func(p string) map[string]any {
			return map[string]any{"user_id": otherUser, "pad": p}
		}},
		{"CreateTask", "POST", "/api/v1/projects/" + itoa(pid) + "/tasks", func(p string) map[string]any {
			return map[string]any{"title": "T", "description": p}
		}},
		{"UpdateTask", "PUT", "/api/v1/tasks/" + itoa(taskID), func(p string) map[string]any { return map[string]any{"description": p} }},
		{"TaskStatus", "PATCH", "/api/v1/tasks/" + itoa(taskID) + "/status", func(p string) map[string]any {
			return map[string]any{"status": "done", "pad": p}
		}},
		{"CreateComment", "POST", "/api/v1/tasks/" + itoa(taskID) + "/comments", func(p string) map[string]any {
			return map[string]any{"body": "x", "pad": p}
		}},
		{"NotificationSettings", "PUT", "/api/v1/users/me/notification-settings", func(p string) map[string]any {
			return map[string]any{"email": map[string]any{"task_assigned": true}, "pad": p}
		}},
	}
}

// hostileSized returns route's body padded to exactly n bytes of JSON.
func hostileSized(t *testing.T, route hostileBodyRoute, n int) []byte {
	t.Helper()
	base, err := json.Marshal(route.body(""))
	if err != nil {
		t.Fatal(err)
	}
	if n < len(base) {
		t.Fatalf("%d bytes is less than the body itself", n)
	}
	b, err := json.Marshal(route.body(strings.Repeat("x", n-len(base))))
	if err != nil || len(b) != n {
		t.Fatalf("sized body: %d bytes, %v", len(b), err)
	}
	return b
}

// hostileChunked hides a body's length, so it is sent with chunked encoding.
type hostileChunked struct{ io.Reader }

// hostileSendChunked posts body without a Content-Length.
func hostileSendChunked(t *testing.T, baseURL, method, path, token string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, baseURL+path, hostileChunked{strings.NewReader(string(body))})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// TestHostileOversizedBodies: every JSON route refuses a body over the
// limit (1 MiB, httpapi.maxBodyBytes) with 413 and the documented detail,
// whether the length is announced or not, and changes nothing; a body of
// exactly the limit, or just under it, reaches validation.
func TestHostileOversizedBodies(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	otherID, _ := e.user("other")
	pid := e.project(owner)
	task := e.task(owner, pid, "keep")
	const limit = 1 << 20
	for _, route := range hostileRoutes(pid, task.ID, otherID) {
		t.Run(route.name, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				size    int
				chunked bool
			}{
				{"OverByOne", limit + 1, false},
				{"OverByOneChunked", limit + 1, true},
				{"FourTimes", 4 * limit, false},
				{"FourTimesChunked", 4 * limit, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					body := hostileSized(t, route, tc.size)
					var r response
					if tc.chunked {
						r = hostileSendChunked(t, e.URL, route.method, route.path, owner, body)
					} else {
						r = e.do(route.method, route.path, owner, body)
					}
					hostileStatus(t, "oversized body", r, http.StatusRequestEntityTooLarge)
					expectJSON(t, r.Body, mustDecode(t, `{"detail": "Request body too large (limit 1 MiB)"}`))
				})
			}
			for _, size := range []int{limit - 1, limit} {
				t.Run("Size"+itoa(int64(size)), func(t *testing.T) {
					r := e.do(route.method, route.path, owner, hostileSized(t, route, size))
					if r.Status >= 500 || r.Status == http.StatusRequestEntityTooLarge {
						t.Fatalf("a body of %d bytes (the limit is %d): %d %s", size, limit, r.Status, truncate(r.Body))
					}
				})
			}
		})
	}
	// The refused bodies changed nothing.
	r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/tasks", owner, nil)
	var list []taskwire.Task
	r.JSON(t, &list)
	if len(list) != 1 || list[0].Description != nil && len(*list[0].Description) > 1<<20 {
		t.Fatalf("tasks after oversized writes: %d", len(list))
	}
	if l := e.do("GET", "/api/v1/users/lookup?username=big", owner, nil); l.Status != http.StatusNotFound {
		t.Fatalf("an oversized signup created a user: %d %s", l.Status, l.Body)
	}
}

// TestHostileDeepJSON: deeply nested JSON, at the top or as a field's
// value, closed or not, is a 422 (or 400) with a JSON detail on every JSON
// route, never a 5xx, a dropped connection or a crash; the server serves
// normally afterwards.
func TestHostileDeepJSON(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	otherID, _ := e.user("other")
	pid := e.project(owner)
	task := e.task(owner, pid, "keep")
	shapes := map[string]string{}
	for _, n := range []int{10_000, 100_000, 500_000} {
		s := itoa(int64(n))
		shapes["Arrays"+s] = strings.Repeat("[", n) + strings.Repeat("]", n)
		shapes["ArraysUnclosed"+s] = strings.Repeat("[", n)
		shapes["ObjectsUnclosed"+s] = strings.Repeat(`{"a":`, n/5)
		shapes["InField"+s] = `{"title": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		shapes["InFieldObjects"+s] = `{"title": "t", "description": ` + strings.Repeat(`{"a":`, n/5) + "1" + strings.Repeat("}", n/5) + `}`
	}
	// Nesting within the decoder's depth limit (10000) inside an unknown
	// member is a valid body; one level deeper is not.
	shapes["Objects10001"] = strings.Repeat(`{"a":`, 10_001) + "1" + strings.Repeat("}", 10_001)
	shapes["Objects50000"] = strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000)
	shapes["Mixed"] = strings.Repeat(`[{"a":`, 20_000) + "1" + strings.Repeat("}]", 20_000)
	for _, route := range hostileRoutes(pid, task.ID, otherID) {
		for name, body := range shapes {
			t.Run(route.name+"/"+name, func(t *testing.T) {
				r := e.do(route.method, route.path, owner, body)
				if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
					t.Fatalf("%d %s, want 422 (or 400)", r.Status, truncate(r.Body))
				}
				hostileObject(t, "error", r.Body)
			})
		}
	}
	if r := e.do("GET", "/healthz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz after deep JSON: %d", r.Status)
	}
	got := e.do("GET", "/api/v1/tasks/"+itoa(task.ID), owner, nil)
	var tk taskwire.Task
	got.JSON(t, &tk)
	if tk.Title != "keep" || tk.Version != 1 {
		t.Fatalf("task after deep JSON: %+v", tk)
	}
}

// TestHostileTextNotifications: a hostile actor name, project name and
// task titles reach the assignee's inbox and notification socket unchanged.
func TestHostileTextNotifications(t *testing.T) {
	e := newEnv(t)
	actorName := `O'Reilly "quoted"; DROP TABLE users; -- 🚀 e` + "\u0301"
	projectName := "%_\\ '; DROP TABLE projects; -- \u202e שלום 𠜎"
	r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{"email": "actor@example.com", "username": actorName, "password": "password123"})
	hostileStatus(t, "signup actor", r, http.StatusCreated)
	actorID := int64(hostileObject(t, "signup", r.Body)["id"].(float64))
	actor := mustTokenFor(t, e, actorID)
	bobID, bob := e.user("bob")
	r = e.do("POST", "/api/v1/projects/", actor, map[string]any{"name": projectName})
	hostileStatus(t, "create project", r, http.StatusCreated)
	pid := int64(hostileObject(t, "project", r.Body)["id"].(float64))
	r = e.do("POST", "/api/v1/projects/"+itoa(pid)+"/members", actor, map[string]any{"user_id": bobID})
	hostileStatus(t, "add bob", r, http.StatusCreated)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/ws/notifications?token="+bob+"&since=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	nextPush := func(t *testing.T) map[string]any {
		t.Helper()
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var push struct {
				Event string
				Data  struct {
					Type string
					Data map[string]any
				}
			}
			if err := json.Unmarshal(msg, &push); err != nil {
				t.Fatalf("push %s: %v", msg, err)
			}
			if unlogged(push.Event) { // caught_up, heartbeat
				continue
			}
			if push.Event != "notification" {
				t.Fatalf("push %s, want a notification", msg)
			}
			return push.Data.Data
		}
	}
	added := nextPush(t) // member_added
	hostileText(t, "member_added push", added, "project_name", projectName)
	hostileText(t, "member_added push", added, "actor_username", actorName)

	titles := map[string]bool{}
	for _, h := range hostileStrings {
		t.Run(h.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", actor, map[string]any{"title": h.s, "assignee_id": bobID})
			hostileStatus(t, "create assigned task", r, http.StatusCreated)
			d := nextPush(t)
			hostileText(t, "task_assigned push", d, "title", h.s)
			hostileText(t, "task_assigned push", d, "project_name", projectName)
			hostileText(t, "task_assigned push", d, "actor_username", actorName)
			titles[h.s] = true
		})
	}
	t.Run("Inbox", func(t *testing.T) {
		r := e.do("GET", "/api/v1/notifications", bob, nil)
		hostileStatus(t, "inbox", r, http.StatusOK)
		var inbox []struct {
			Type string
			Data map[string]any
		}
		r.JSON(t, &inbox)
		if len(inbox) != len(titles)+1 {
			t.Fatalf("%d notifications, want %d", len(inbox), len(titles)+1)
		}
		for _, n := range inbox {
			hostileText(t, "inbox "+n.Type, n.Data, "project_name", projectName)
			hostileText(t, "inbox "+n.Type, n.Data, "actor_username", actorName)
			if n.Type == "task_assigned" {
				title, _ := n.Data["title"].(string)
				if !titles[title] {
					t.Errorf("inbox title %+q is none of the titles sent", title)
				}
				delete(titles, title)
			}
		}
		for title := range titles {
			t.Errorf("title %+q missing from the inbox", title)
		}
	})
}
