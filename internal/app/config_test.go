package app

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEverySetting fails when a setting is missing from the
// README's configuration table, or listed with another flag or default.
func TestREADMEListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		rows[cells[1]] = cells[2:4] // flag, default
	}
	for _, s := range settings {
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("README's configuration table has no row for %s", s.env)
			continue
		}
		if flag := strings.TrimPrefix(row[0], "--"); flag != s.flag {
			t.Errorf("README lists %s with flag %q, the code with %q", s.env, row[0], s.flag)
		}
		if def := row[1]; def != s.def {
			t.Errorf("README lists %s with default %q, the code with %q", s.env, def, s.def)
		}
	}
}
