package taskwire_test

import (
	"strings"
	"testing"

	"github.com/taskwire/taskwire"
)

func TestValidateEmail(t *testing.T) {
	tests := []struct {
		name  string
		email string
		ok    bool
	}{
		{"OK", "alice@example.com", true},
		{"OKSubdomainsAndTag", "a.b+tag@sub.example.co.uk", true},
		{"OKShortest", "a@b.c", true},
		{"OKDigitsAndHyphens", "user-1_2@my-host9.example", true},
		{"OKUnicode", "jöhn@exämple.com", true},
		{"OKMaxLength", strings.Repeat("a", 64) + "@" + strings.Repeat("b", taskwire.MaxEmailLen-64-1-4) + ".com", true},

		{"ErrEmpty", "", false},
		{"ErrNoAt", "alice", false},
		{"ErrNoLocalPart", "@example.com", false},
		{"ErrNoDomain", "alice@", false},
		{"ErrTwoAts", "alice@@example.com", false},
		{"ErrMissingTLD", "alice@example", false},
		{"ErrMissingTLDLocalhost", "alice@localhost", false},
		{"ErrDomainLeadingDot", "alice@.example.com", false},
		{"ErrDomainTrailingDot", "alice@example.com.", false},
		{"ErrDomainDoubleDot", "alice@example..com", false},
		{"ErrLocalDoubleDot", "al..ice@example.com", false},
		{"ErrLocalLeadingDot", ".alice@example.com", false},
		{"ErrDisplayName", "Alice <alice@example.com>", false},
		{"ErrQuotedDisplayName", `"Alice" <alice@example.com>`, false},
		{"ErrAngleBrackets", "<alice@example.com>", false},
		{"ErrTrailingBracket", "alice@example.com>", false},
		{"ErrQuotedLocalPart", `"a b"@example.com`, false},
		{"ErrComment", "alice(comment)@example.com", false},
		{"ErrDomainComment", "alice@exam(ple).com", false},
		{"ErrDomainLiteral", "alice@[127.0.0.1]", false},
		{"ErrList", "alice@example.com, bob@example.com", false},
		{"ErrGroupSyntax", "friends: alice@example.com;", false},
		{"ErrInnerSpace", "alice@exa mple.com", false},
		{"ErrLeadingSpace", " alice@example.com", false},
		{"ErrTrailingSpace", "alice@example.com ", false},
		{"ErrTooLong", strings.Repeat("a", 64) + "@" + strings.Repeat("b", taskwire.MaxEmailLen-64-1-4+1) + ".com", false},
		{"ErrHeaderInjectionCRLF", "alice@example.com\r\nBcc: victim@example.org", false},
		{"ErrHeaderInjectionLF", "alice@example.com\nBcc: victim@example.org", false},
		{"ErrHeaderInjectionCR", "alice@example.com\rBcc: victim@example.org", false},
		{"ErrHeaderInjectionInLocalPart", "alice\r\nBcc: victim@example.org", false},
		{"ErrEncodedCRLF", "alice%0d%0aBcc:victim@example.org", false},
		{"ErrTrailingNewline", "alice@example.com\n", false},
		{"ErrTab", "alice\t@example.com", false},
		{"ErrNUL", "alice@example.com\x00", false},
		{"ErrDEL", "alice\x7f@example.com", false},
		{"ErrEscape", "alice\x1b[2J@example.com", false},
		{"ErrInvalidUTF8", "alice\xff@example.com", false},
		// ValidateEmail promises "no line breaks" and uses "no control
		// characters" as the rule; NEL (U+0085) is both a C1 control
		// character and a Unicode line break, U+2028 a line separator.
		{"ErrC1ControlNEL", "alice\u0085@example.com", false},
		{"ErrC1ControlNELAtEnd", "alice@example.com\u0085", false},
		{"ErrLineSeparator", "alice\u2028@example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := taskwire.ValidateEmail(tc.email)
			if tc.ok {
				if err != nil {
					t.Fatalf("ValidateEmail(%q) = %v, want nil", tc.email, err)
				}
				return
			}
			wantInvalid(t, err, "email")
		})
	}
}

func TestSignupValidate(t *testing.T) {
	ok := taskwire.Signup{Email: "alice@example.com", Username: "alice", Password: "password123"}
	with := func(change func(*taskwire.Signup)) taskwire.Signup {
		s := ok
		change(&s)
		return s
	}
	tests := []struct {
		name   string
		signup taskwire.Signup
		field  string // "" when valid
	}{
		{"OK", ok, ""},
		{"OKUnicodeUsername", with(func(s *taskwire.Signup) { s.Username = "Zoë 張" }), ""},
		{"OKInnerSpace", with(func(s *taskwire.Signup) { s.Username = "alice smith" }), ""},
		{"OKMaxUsername", with(func(s *taskwire.Signup) { s.Username = strings.Repeat("é", taskwire.MaxUsernameLen) }), ""},
		{"OKMaxPassword", with(func(s *taskwire.Signup) { s.Password = strings.Repeat("p", 72) }), ""},
		{"OKMaxPasswordMultibyte", with(func(s *taskwire.Signup) { s.Password = strings.Repeat("€", 24) }), ""},
		{"OKPasswordWithSpaces", with(func(s *taskwire.Signup) { s.Password = "  spaced out  " }), ""},

		{"ErrEmail", with(func(s *taskwire.Signup) { s.Email = "not-an-email" }), "email"},
		{"ErrEmailCheckedFirst", taskwire.Signup{Email: "Alice <alice@example.com>"}, "email"},
		{"ErrEmailHeaderInjection", with(func(s *taskwire.Signup) { s.Email = "alice@example.com\r\nBcc: x@example.org" }), "email"},
		{"ErrUsernameEmpty", with(func(s *taskwire.Signup) { s.Username = "" }), "username"},
		{"ErrUsernameBlank", with(func(s *taskwire.Signup) { s.Username = "   " }), "username"},
		{"ErrUsernameLeadingSpace", with(func(s *taskwire.Signup) { s.Username = " alice" }), "username"},
		{"ErrUsernameTrailingNewline", with(func(s *taskwire.Signup) { s.Username = "alice\n" }), "username"},
		{"ErrUsernameTooLong", with(func(s *taskwire.Signup) { s.Username = strings.Repeat("é", taskwire.MaxUsernameLen+1) }), "username"},
		{"ErrUsernameNUL", with(func(s *taskwire.Signup) { s.Username = "ali\x00ce" }), "username"},
		{"ErrUsernameNewline", with(func(s *taskwire.Signup) { s.Username = "ali\nce" }), "username"},
		{"ErrUsernameCRLF", with(func(s *taskwire.Signup) { s.Username = "ali\r\nce" }), "username"},
		{"ErrUsernameTab", with(func(s *taskwire.Signup) { s.Username = "ali\tce" }), "username"},
		{"ErrUsernameEscape", with(func(s *taskwire.Signup) { s.Username = "ali\x1b[31mce" }), "username"},
		{"ErrUsernameDEL", with(func(s *taskwire.Signup) { s.Username = "ali\x7fce" }), "username"},
		{"ErrUsernameInvalidUTF8", with(func(s *taskwire.Signup) { s.Username = "ali\xffce" }), "username"},
		// C1 control characters (U+0080–U+009F) are control characters too:
		// NEL is a line break and CSI starts terminal escape sequences.
		{"ErrUsernameC1NEL", with(func(s *taskwire.Signup) { s.Username = "ali\u0085ce" }), "username"},
		{"ErrUsernameC1CSI", with(func(s *taskwire.Signup) { s.Username = "ali\u009b31mce" }), "username"},
		{"ErrPasswordEmpty", with(func(s *taskwire.Signup) { s.Password = "" }), "password"},
		{"ErrPassword73Bytes", with(func(s *taskwire.Signup) { s.Password = strings.Repeat("p", 73) }), "password"},
		{"ErrPasswordMultibyteOver72Bytes", with(func(s *taskwire.Signup) { s.Password = strings.Repeat("€", 25) }), "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.signup.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate(%+q) = %v, want nil", tc.signup, err)
				}
				return
			}
			wantInvalid(t, err, tc.field)
		})
	}
}

// wantInvalid fails the test unless err is an Invalid error about field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := taskwire.AsError(err)
	if !ok {
		t.Fatalf("err = %v, want an Invalid *taskwire.Error about %q", err, field)
	}
	if e.Kind != taskwire.Invalid || e.Field != field {
		t.Fatalf("err = %v (kind %d, field %q), want kind Invalid about %q", err, e.Kind, e.Field, field)
	}
	if e.Message == "" {
		t.Fatal("Invalid error without a message")
	}
}
