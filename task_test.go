package taskwire_test

import (
	"testing"

	"github.com/taskwire/taskwire"
)

func TestStatusValid(t *testing.T) {
	tests := []struct {
		name   string
		status taskwire.Status
		want   bool
	}{
		{"Todo", taskwire.StatusTodo, true},
		{"InProgress", taskwire.StatusInProgress, true},
		{"Done", taskwire.StatusDone, true},
		{"TodoLiteral", "todo", true},
		{"Empty", "", false},
		{"Uppercase", "TODO", false},
		{"TitleCase", "Done", false},
		{"Hyphenated", "in-progress", false},
		{"Spaced", "in progress", false},
		{"LeadingSpace", " done", false},
		{"TrailingNewline", "done\n", false},
		{"Unknown", "doing", false},
		{"Prefix", "do", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.status.Valid(); got != tc.want {
				t.Fatalf("Status(%q).Valid() = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}
