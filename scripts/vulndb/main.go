// Command vulndb builds a Go vulnerability database in the v1 layout
// (https://go.dev/security/vuln/database#api) from a directory of OSV
// entries, such as data/osv of the golang.org/x/vulndb module, so that
// govulncheck can run offline with -db file:///path/to/out.
//
//	go run ./scripts/vulndb -osv DIR -out DIR [-modified RFC3339]
//
// It writes
//
//	out/index/db.json       {"modified": T}
//	out/index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}]
//	out/index/vulns.json    [{"id", "modified", "aliases"}]
//	out/ID/GO-YYYY-NNNN.json  each entry, compacted, otherwise as given
//
// in plain JSON only: govulncheck reads .json files from a file:// database
// (the .json.gz twins are only needed to serve the database over HTTP).
//
// data/osv in the vulndb module carries zero "modified" timestamps (upstream
// fills them in from the git history, which a module zip lacks), so
// -modified sets the database's modification time when it is later than
// every entry's: pass the module version's commit time.
//
// The database is built in a sibling temporary directory and renamed onto
// -out at the end, so an interrupted run never leaves a half-written one.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	osvDir := flag.String("osv", "", "directory of OSV entries (GO-*.json)")
	out := flag.String("out", "", "directory to write the database to (replaced)")
	modified := flag.String("modified", "", "RFC 3339 time: the database's modification time, if later than every entry's")
	flag.Parse()
	if *osvDir == "" || *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	var floor time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			fatalf("-modified: %v", err)
		}
		floor = t.UTC()
	}
	db, err := load(*osvDir)
	if err != nil {
		fatalf("%v", err)
	}
	if floor.After(db.modified) {
		db.modified = floor
	}
	if err := db.writeTo(*out); err != nil {
		fatalf("%v", err)
	}
	fmt.Printf("vulndb: %d entries, %d modules, modified %s -> %s\n",
		len(db.entries), len(db.modules), db.modified.Format(time.RFC3339), *out)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vulndb: "+format+"\n", args...)
	os.Exit(1)
}

// osvEntry is the part of an OSV entry that the indexes need.
type osvEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

// The v1 index schema.
type (
	dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	moduleMeta struct {
		Path  string       `json:"path"`
		Vulns []moduleVuln `json:"vulns"`
	}
	moduleVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	vulnMeta struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

type database struct {
	modified time.Time
	modules  map[string]*moduleMeta
	vulns    []vulnMeta
	entries  map[string][]byte // ID -> compact OSV JSON
}

var idRE = regexp.MustCompile(`^GO-[0-9]{4}-[0-9]{4,}$`)

func load(dir string) (*database, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no OSV entries (*.json) in %s", dir)
	}
	slices.Sort(files)
	db := &database{modules: map[string]*moduleMeta{}, entries: map[string][]byte{}}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var e osvEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if !idRE.MatchString(e.ID) || filepath.Base(file) != e.ID+".json" {
			return nil, fmt.Errorf("%s: unexpected id %q", file, e.ID)
		}
		if _, dup := db.entries[e.ID]; dup {
			return nil, fmt.Errorf("%s: duplicate id %s", file, e.ID)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		db.entries[e.ID] = buf.Bytes()

		e.Modified = e.Modified.UTC()
		if e.Modified.After(db.modified) {
			db.modified = e.Modified
		}
		db.vulns = append(db.vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" {
				return nil, fmt.Errorf("%s: affected package without a name", file)
			}
			m := db.modules[path]
			if m == nil {
				m = &moduleMeta{Path: path}
				db.modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a.Ranges)})
		}
	}
	return db, nil
}

// latestFix returns the highest "fixed" version of the SEMVER ranges, or ""
// if there is none or the vulnerability is re-introduced after it. govulncheck
// only looks at the entries whose fix is later than the version in use (or
// that have none), so "" is always the safe answer, also for versions that
// do not parse.
func latestFix(ranges []osvRange) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, ev := range r.Events {
			if ev.Fixed != "" && semverLess(latest, ev.Fixed) {
				latest = ev.Fixed
			}
		}
		for _, ev := range r.Events {
			if ev.Introduced != "" && ev.Introduced != "0" && semverLess(latest, ev.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

func (db *database) writeTo(out string) (err error) {
	out = filepath.Clean(out)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), filepath.Base(out)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return err
		}
	}

	modules := make([]*moduleMeta, 0, len(db.modules))
	for _, m := range db.modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		modules = append(modules, m)
	}
	slices.SortFunc(modules, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(db.vulns, func(a, b vulnMeta) int { return strings.Compare(a.ID, b.ID) })

	for name, v := range map[string]any{
		"index/db.json":      dbMeta{Modified: db.modified},
		"index/modules.json": modules,
		"index/vulns.json":   db.vulns,
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err
		}
	}
	for id, b := range db.entries {
		if err := os.WriteFile(filepath.Join(tmp, "ID", id+".json"), b, 0o644); err != nil {
			return err
		}
	}

	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// semverLess reports whether semantic version a (without a "v" prefix, as
// in OSV) sorts before b. As in golang.org/x/mod/semver, a version that does
// not parse sorts before every valid one, and equal to another invalid one.
func semverLess(a, b string) bool {
	va, okA := parseSemver(a)
	vb, okB := parseSemver(b)
	if !okA || !okB {
		return !okA && okB
	}
	for i := range 3 {
		if va.num[i] != vb.num[i] {
			return va.num[i] < vb.num[i]
		}
	}
	return comparePrerelease(va.pre, vb.pre) < 0
}

type semver struct {
	num [3]uint64
	pre []string // dot-separated pre-release identifiers; nil for a release
}

func parseSemver(s string) (v semver, ok bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 { // build metadata: ignored
		if !validIdents(s[i+1:], false) {
			return v, false
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		if !validIdents(s[i+1:], true) {
			return v, false
		}
		v.pre = strings.Split(s[i+1:], ".")
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		if !isNumeric(p) || (len(p) > 1 && p[0] == '0') {
			return v, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return v, false
		}
		v.num[i] = n
	}
	return v, true
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; in a
// pre-release, numeric identifiers may not have leading zeros.
func validIdents(s string, pre bool) bool {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		for _, c := range id {
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
		if pre && isNumeric(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// comparePrerelease orders pre-releases as semver 2.0.0 does: a release
// (none) is greater than any pre-release; identifiers compare numerically
// when both are numeric, numeric ones sort before alphanumeric ones, others
// compare in ASCII order; a shorter list that is a prefix sorts first.
func comparePrerelease(a, b []string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		xn, yn := isNumeric(x), isNumeric(y)
		switch {
		case xn && yn:
			if len(x) != len(y) {
				return cmpInt(len(x), len(y))
			}
			return strings.Compare(x, y)
		case xn:
			return -1
		case yn:
			return 1
		default:
			return strings.Compare(x, y)
		}
	}
	return cmpInt(len(a), len(b))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
