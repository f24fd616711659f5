package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestSemverLess(t *testing.T) {
	// Each version sorts strictly before the next.
	order := []string{
		"not-a-version", // invalid versions sort first
		"0.0.0-20200101000000-abcdefabcdef",
		"0.0.1",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"1.2.0",
		"1.10.0",
		"1.10.1",
		"2.0.0",
	}
	for i := range order {
		for j := range order {
			if got, want := semverLess(order[i], order[j]), i < j; got != want {
				t.Errorf("semverLess(%q, %q) = %v, want %v", order[i], order[j], got, want)
			}
		}
	}
	for _, bad := range []string{"", "1", "1.2", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.x"} {
		if _, ok := parseSemver(bad); ok {
			t.Errorf("parseSemver(%q) ok, want invalid", bad)
		}
	}
	if semverLess("1.2.3+build.1", "1.2.3") || semverLess("1.2.3", "1.2.3+build.1") {
		t.Error("build metadata must not affect the order")
	}
}

func TestLatestFix(t *testing.T) {
	type ev = map[string]string
	rng := func(events ...ev) osvRange {
		var r osvRange
		b, _ := json.Marshal(map[string]any{"type": "SEMVER", "events": events})
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"none", nil, ""},
		{"open", []osvRange{rng(ev{"introduced": "0"})}, ""},
		{"fixed", []osvRange{rng(ev{"introduced": "0"}, ev{"fixed": "1.2.3"})}, "1.2.3"},
		{"highest", []osvRange{rng(ev{"introduced": "0"}, ev{"fixed": "1.2.3"}, ev{"introduced": "1.3.0"}, ev{"fixed": "1.3.4"})}, "1.3.4"},
		{"reintroduced", []osvRange{rng(ev{"introduced": "0"}, ev{"fixed": "1.2.3"}, ev{"introduced": "1.5.0"})}, ""},
		{"two ranges", []osvRange{rng(ev{"introduced": "0"}, ev{"fixed": "0.9.0"}), rng(ev{"introduced": "1.0.0"}, ev{"fixed": "1.0.2"})}, "1.0.2"},
	} {
		if got := latestFix(tc.ranges); got != tc.want {
			t.Errorf("%s: latestFix = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestBuild(t *testing.T) {
	src := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("GO-2024-0002.json", `{
  "id": "GO-2024-0002", "modified": "2024-05-01T00:00:00Z", "aliases": ["CVE-2024-2"],
  "affected": [{"package": {"name": "example.com/m", "ecosystem": "Go"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.4.0"}]}]}]}`)
	write("GO-2024-0001.json", `{
  "id": "GO-2024-0001", "modified": "0001-01-01T00:00:00Z",
  "affected": [{"package": {"name": "stdlib", "ecosystem": "Go"}, "ranges": []},
    {"package": {"name": "example.com/m", "ecosystem": "Go"}, "ranges": []}]}`)
	write("README.md", "not an entry")

	db, err := load(src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "db")
	if err := db.writeTo(out); err != nil {
		t.Fatal(err)
	}
	if err := db.writeTo(out); err != nil { // replaces
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, want := range map[string]string{
		"index/db.json":      `{"modified":"2024-05-01T00:00:00Z"}`,
		"index/modules.json": `[{"path":"example.com/m","vulns":[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z"},{"id":"GO-2024-0002","modified":"2024-05-01T00:00:00Z","fixed":"1.4.0"}]},{"path":"stdlib","vulns":[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z"}]}]`,
		"index/vulns.json":   `[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z"},{"id":"GO-2024-0002","modified":"2024-05-01T00:00:00Z","aliases":["CVE-2024-2"]}]`,
	} {
		if got := read(name); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	if got := read("ID/GO-2024-0002.json"); got[0] != '{' || len(got) > 300 {
		t.Errorf("ID/GO-2024-0002.json not compacted: %s", got)
	}

	write("GO-2024-0003.json", `{"id": "GO-2024-0004"}`)
	if _, err := load(src); err == nil {
		t.Error("load accepted an entry whose id does not match its file name")
	}
}
