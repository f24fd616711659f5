package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/taskwire/taskwire/internal/app"
	"github.com/taskwire/taskwire/sqlstore"
)

// importUsage is how the import command is called.
const importUsage = "taskwire import --from sqlite:///path/to/taskwire.db (into the empty PostgreSQL database of DATABASE_URL)"

// importDB runs `taskwire import --from sqlite:///file.db`: it copies a
// SQLite database — Taskwire's or the seed service's — into the empty
// PostgreSQL database of DATABASE_URL, which it migrates first. Progress
// goes to stderr, the summary to stdout. Background jobs are not copied;
// the summary says how many were pending.
func importDB(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	from, rest, err := cutFromFlag(args)
	if err != nil {
		return err
	}
	if from == "" {
		return errors.New("import: --from is required: " + importUsage)
	}
	src, err := sqlstore.ParseURL(from)
	if err != nil || src.Dialect != "sqlite" {
		return fmt.Errorf("import: --from %q: want the SQLite database to copy from (sqlite:///rel.db, sqlite:////abs.db or a file path)", from)
	}
	cfg, err := app.LoadConfig(rest, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Database.Dialect != "postgres" {
		return fmt.Errorf("import: DATABASE_URL %q is not PostgreSQL: import copies into PostgreSQL (postgres://...)", cfg.DatabaseURL)
	}
	db, pool, err := app.OpenDatabase(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	defer pool.Close()

	began := time.Now()
	p := newProgressLine(stderr)
	stats, err := sqlstore.Import(ctx, src.Path, db, p.show)
	p.end()
	if err != nil {
		return err
	}
	counts := make([]string, len(stats.Tables))
	for i, t := range stats.Tables {
		counts[i] = fmt.Sprintf("%d %s", t.Rows, t.Table)
	}
	fmt.Fprintf(stdout, "imported %s from %s in %s\n", strings.Join(counts, ", "), src.Path, time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "%d pending background jobs (emails) in the source were not copied\n", stats.PendingJobs)
	return nil
}

// cutFromFlag takes --from (or -from, with its value after a space or an
// =) out of args, leaving the flags loadConfig knows.
func cutFromFlag(args []string) (from string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return from, append(rest, args[i:]...), nil
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "from" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return "", nil, errors.New("import: --from needs a value: " + importUsage)
			}
			i++
			value = args[i]
		}
		from = value
	}
	return from, rest, nil
}

// progressLine shows an import's progress: rewritten in place with \r on a
// terminal, one line per report otherwise (a log keeps every line).
type progressLine struct {
	w        io.Writer
	terminal bool
	width    int // of the last line written in place
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progressLine) show(pr sqlstore.Progress) {
	line := fmt.Sprintf("import: %s %d/%d", pr.Table, pr.Done, pr.Total)
	if !p.terminal {
		fmt.Fprintln(p.w, line)
		return
	}
	// Pad over the tail of a longer previous line.
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

// end finishes the line written in place, if any.
func (p *progressLine) end() {
	if p.terminal && p.width > 0 {
		fmt.Fprintln(p.w)
	}
}
