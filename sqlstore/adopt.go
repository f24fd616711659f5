package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Adoption of the seed service's database.
//
// Pointed at a SQLite file the seed service (FastAPI + SQLAlchemy) wrote,
// Taskwire adopts it in place: it writes a byte copy next to it, then
// builds the adopted database on a work copy in the same directory and
// swaps it in with one rename. The contract's "in one transaction" is
// realised that way: the original is never written, so after any failure —
// a refusal, an error, kill -9, a power cut — it is byte for byte as it was,
// and after the rename it is wholly Taskwire's.

// adoptStep, when set, is called between the steps of an adoption with the
// step about to be finished: "backup", "copy", "migrate", "rows" (each
// after it is done) and "rename" (before it). Tests set it to kill the
// process at each; it is nil in production.
var adoptStep func(step string)

func stepDone(name string) {
	if adoptStep != nil {
		adoptStep(name)
	}
}

const (
	// lockTimeout is how long adoption waits for another process (the seed
	// service, say) to let go of the file.
	lockTimeout = 2 * time.Second
	// backupInfix and workInfix name the files adoption writes beside the
	// database: <file>.before-taskwire-<UTC time>, <file>.adopting-<pid>.
	backupInfix = ".before-taskwire-"
	workInfix   = ".adopting-"
)

// fileKind is what classify found at a SQLite path.
type fileKind int

const (
	kindEmpty    fileKind = iota // missing, 0 bytes or no tables: the normal path
	kindTaskwire                 // Taskwire's own: the normal path
	kindSeed                     // the seed service's: adopt it first
)

// errReplaced reports that the file was replaced while adoption waited for
// its lock (another Taskwire adopted it); the caller classifies it again.
var errReplaced = errors.New("sqlstore: the file was replaced while waiting for its lock")

// prepareSQLite makes path fit for the normal open: it adopts a file of
// the seed service and refuses one of another application, with errors of
// one line that start with the path. It reads nothing but the file's bytes
// and read-only, immutable connections until it knows the file is the
// seed's, because a connection with openSQLite's pragmas converts it to WAL.
func prepareSQLite(ctx context.Context, path string, logger *slog.Logger) error {
	for range 3 {
		kind, err := classify(ctx, path)
		if err != nil || kind != kindSeed {
			return err
		}
		if err = adopt(ctx, path, logger); !errors.Is(err, errReplaced) {
			return err
		}
	}
	return refused("%s was replaced again and again while Taskwire waited for its lock", path)
}

// adoptError is a refused or failed adoption. Its message is one line that
// starts with the file's path.
type adoptError struct {
	msg string
	err error
}

func (e *adoptError) Error() string { return e.msg }
func (e *adoptError) Unwrap() error { return e.err }

// refused returns an adoptError saying that nothing was changed.
func refused(format string, args ...any) error {
	return &adoptError{msg: fmt.Sprintf(format, args...) + "; nothing was changed"}
}

// failed wraps an unexpected error of adoption while doing what.
func failed(path, what string, err error) error {
	return &adoptError{msg: fmt.Sprintf("%s: adopting the seed service's database failed while %s: %s; nothing was changed",
		path, what, oneLine(err)), err: err}
}

// oneLine is err's message on one line (SQL in driver errors spans several).
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// header is what adoption needs of a SQLite file's first 100 bytes.
type header struct {
	wal      bool  // the file is in WAL mode
	pageSize int64 // bytes per page
	pages    int64 // the in-header database size; 0 when not valid
}

func readHeader(r io.ReaderAt, path string) (header, error) {
	var b [100]byte
	if _, err := r.ReadAt(b[:], 0); err != nil || string(b[:16]) != "SQLite format 3\x00" {
		return header{}, refused("%s is not a SQLite database", path)
	}
	h := header{wal: b[18] == 2 || b[19] == 2, pageSize: int64(binary.BigEndian.Uint16(b[16:18]))}
	if h.pageSize == 1 {
		h.pageSize = 65536
	}
	// The size is valid only while the change counter matches the
	// version-valid-for number; otherwise SQLite takes the file's size.
	if counter := binary.BigEndian.Uint32(b[24:28]); counter == binary.BigEndian.Uint32(b[92:96]) {
		h.pages = int64(binary.BigEndian.Uint32(b[28:32]))
	}
	return h, nil
}

// checkSize refuses a rollback-journal file shorter than its header says.
// (A WAL file's header may run ahead of it until its -wal is checkpointed.)
func (h header) checkSize(path string, size int64) error {
	if h.wal || h.pages*h.pageSize <= size {
		return nil
	}
	if _, err := os.Lstat(path + "-journal"); err == nil {
		return journalRefusal(path) // the journal may restore it
	}
	return refused("%s is truncated: its header counts %d pages of %d bytes, the file has %d bytes; restore it from a backup, then start Taskwire again",
		path, h.pages, h.pageSize, size)
}

// classify tells what path holds without changing a byte of it.
func classify(ctx context.Context, path string) (fileKind, error) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		// Missing: the normal path creates it; anything else it reports.
		return kindEmpty, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return kindEmpty, nil // the normal path reports it
	}
	h, err := readHeader(f, path)
	f.Close()
	if err != nil {
		return 0, err
	}
	if err := h.checkSize(path, st.Size()); err != nil {
		return 0, err
	}
	tables, err := inspectFile(ctx, path, true)
	if h.wal && (err != nil || len(tables) == 0) {
		// A WAL database's newest commits may be in its -wal only, which
		// an immutable connection does not read, and a checkpoint may be
		// writing the file. A reader that uses the -wal sees them (it
		// creates the -wal and -shm files if missing, as any reader does,
		// so it is not the first choice).
		tables, err = inspectFile(ctx, path, false)
	}
	if err != nil {
		return 0, refused("%s cannot be read as a SQLite database (%s)", path, oneLine(err))
	}
	kind, err := kindOf(path, tables)
	if kind == kindSeed && h.wal {
		// Refused before a connection that locks it creates a -wal.
		return 0, walRefusal(path)
	}
	return kind, err
}

// inspectFile lists path's schema through a read-only connection that
// cannot write or create a file: immutable, it also takes no lock and
// ignores journals.
func inspectFile(ctx context.Context, path string, immutable bool) (map[string][]string, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro"
	if immutable {
		dsn += "&immutable=1"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return inspect(ctx, db)
}

// inspect returns the columns of each table, view and trigger (none) by
// name, leaving out SQLite's own.
func inspect(ctx context.Context, db *sql.DB) (map[string][]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p
		WHERE m.type IN ('table', 'view', 'trigger') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table string
		var column sql.NullString
		if err := rows.Scan(&table, &column); err != nil {
			return nil, err
		}
		if _, ok := out[table]; !ok {
			out[table] = nil // a trigger has no columns
		}
		if column.Valid {
			out[table] = append(out[table], column.String)
		}
	}
	return out, rows.Err()
}

// seedTables are the seed service's tables and their columns.
func seedTables() map[string][]string {
	return map[string][]string{
		"users":           {"id", "email", "username", "hashed_password"},
		"projects":        {"id", "name", "description", "owner_id"},
		"project_members": {"project_id", "user_id"},
		"tasks":           {"id", "title", "description", "status", "project_id", "assignee_id"},
	}
}

// taskwireTables are the tables Taskwire's SQLite migrations create.
func taskwireTables() map[string]bool {
	out := map[string]bool{"goose_db_version": true}
	create := regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)
	_ = fs.WalkDir(migrations, "migrations/sqlite", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations, p)
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
		return err
	})
	return out
}

const otherApp = "%s holds tables of another application (%s): Taskwire uses only an empty file, its own, or the seed service's"

// kindOf classifies a file by its tables.
func kindOf(path string, tables map[string][]string) (fileKind, error) {
	if len(tables) == 0 {
		return kindEmpty, nil
	}
	if _, ok := tables["goose_db_version"]; ok {
		// Taskwire's, possibly from before its first migration finished or
		// from a newer Taskwire with more tables (events is there since the
		// first); River's tables live beside them.
		known := taskwireTables()
		var foreign []string
		for name := range tables {
			if !known[name] && !strings.HasPrefix(name, "river_") {
				foreign = append(foreign, name)
			}
		}
		if _, ok := tables["events"]; ok || len(foreign) == 0 {
			return kindTaskwire, nil
		}
		slices.Sort(foreign)
		return 0, refused(otherApp, path, strings.Join(foreign, ", "))
	}
	if err := checkSeedShape(path, tables); err != nil {
		return 0, err
	}
	return kindSeed, nil
}

// checkSeedShape returns nil if tables are exactly the seed service's.
func checkSeedShape(path string, tables map[string][]string) error {
	seed := seedTables()
	var extra, missing []string
	for name := range tables {
		if _, ok := seed[name]; !ok {
			extra = append(extra, name)
		}
	}
	for name := range seed {
		if _, ok := tables[name]; !ok {
			missing = append(missing, name)
		}
	}
	slices.Sort(extra)
	slices.Sort(missing)
	switch {
	case len(extra) > 0:
		return refused(otherApp, path, strings.Join(extra, ", "))
	case len(missing) > 0:
		return refused("%s holds some of the seed service's tables but not %s: Taskwire uses only an empty file, its own, or the seed service's",
			path, strings.Join(missing, ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(seed)) {
		have := slices.Sorted(slices.Values(tables[name]))
		if want := slices.Sorted(slices.Values(seed[name])); !slices.Equal(have, want) {
			return refused("%s: table %s has the columns (%s), not the seed service's (%s)",
				path, name, strings.Join(have, ", "), strings.Join(want, ", "))
		}
	}
	return nil
}

const journalAdvice = "stop the seed service, run sqlite3 %s 'PRAGMA journal_mode=DELETE' once, then start Taskwire again"

// checkFiles refuses what makes an adoption unsafe before anything of the
// file is locked or copied: changes outside it (a -wal, a -journal), a file
// Taskwire may not write.
func checkFiles(path string) error {
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return refused("%s has a -wal file holding changes not yet in it: "+journalAdvice, path, path)
	}
	if _, err := os.Lstat(path + "-journal"); err == nil {
		return journalRefusal(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return failed(path, "reading it", err)
	}
	// The mode bits, not access(2): root may write a file anyway.
	if st.Mode().Perm()&0o200 == 0 {
		return refused("%s is read-only (mode %04o): make it writable for its owner (chmod u+w) to let Taskwire adopt it", path, st.Mode().Perm())
	}
	return nil
}

func journalRefusal(path string) error {
	return refused("%s has a -journal file: the seed service may be running or did not finish a transaction; "+
		journalAdvice+" (sqlite3 recovers the transaction)", path, path)
}

func walRefusal(path string) error {
	return refused("%s is in WAL mode, which the seed service does not use: "+journalAdvice, path, path)
}

// adoption is one adoption of the seed service's database at path.
type adoption struct {
	path string
	// src reads the original. It stays open until the lock is released:
	// closing any descriptor of the file drops the process's POSIX locks on
	// it, SQLite's included.
	src    *os.File
	info   os.FileInfo // src's, under the lock
	now    time.Time
	backup string // written by this adoption, removed if it fails
	work   string
}

// adopt adopts the seed service's database at path; see prepareSQLite.
func adopt(ctx context.Context, path string, logger *slog.Logger) error {
	// Through a symbolic link, the file itself is adopted: its backup and
	// work copy go beside it, and the rename replaces it, not the link.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if err := checkFiles(path); err != nil {
		return err
	}
	src, err := os.Open(path)
	if err != nil {
		return failed(path, "opening it", err)
	}
	defer src.Close() // after unlock: deferred calls run last first
	unlock, err := lockFile(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	a := &adoption{path: path, src: src, work: path + workInfix + strconv.Itoa(os.Getpid())}
	if err := a.checkLocked(); err != nil {
		return err
	}
	removeStale(path)
	counts, err := a.run(ctx)
	if err != nil {
		return err
	}
	logger.Info("adopted the seed service's database", "path", path, "backup", a.backup,
		"users", counts[0], "projects", counts[1], "members", counts[2], "tasks", counts[3])
	return nil
}

// lockFile takes SQLite's exclusive lock on path, through a connection
// without pragmas in the file's own rollback-journal mode: nobody writes
// the file until release, and taking and releasing it writes nothing.
func lockFile(ctx context.Context, path string) (release func(), err error) {
	q := url.Values{}
	q.Set("mode", "rw")
	q.Set("_txlock", "exclusive")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", lockTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, failed(path, "locking it", err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
			return nil, refused("%s is locked by another process: stop the seed service (or whatever holds it) and start Taskwire again", path)
		}
		return nil, failed(path, "locking it", err)
	}
	return func() {
		_ = tx.Rollback()
		_ = db.Close()
	}, nil
}

// checkLocked checks, under the lock, that src is still the file at path
// and is whole, in rollback-journal mode.
func (a *adoption) checkLocked() error {
	info, err := a.src.Stat()
	if err != nil {
		return failed(a.path, "reading it", err)
	}
	if now, err := os.Stat(a.path); err != nil || !os.SameFile(info, now) {
		return errReplaced
	}
	a.info = info
	h, err := readHeader(a.src, a.path)
	if err != nil {
		return err
	}
	if h.wal {
		return walRefusal(a.path)
	}
	return h.checkSize(a.path, info.Size())
}

// run writes the backup, builds the adopted database on the work copy and
// renames it over the original. It returns the rows copied: users,
// projects, members, tasks.
func (a *adoption) run(ctx context.Context) (counts [4]int64, err error) {
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = os.Remove(a.work)
			if a.backup != "" {
				_ = os.Remove(a.backup)
			}
		}
	}()
	if err := a.writeBackup(); err != nil {
		return counts, err
	}
	stepDone("backup")
	if err := copyFile(a.src, a.info, a.work); err != nil {
		return counts, failed(a.path, "copying it to "+a.work, err)
	}
	stepDone("copy")
	if counts, err = a.build(ctx); err != nil {
		return counts, err
	}
	if err := finishFile(a.work, a.info); err != nil {
		return counts, failed(a.path, "writing "+a.work, err)
	}
	stepDone("rename")
	if err := os.Rename(a.work, a.path); err != nil {
		return counts, failed(a.path, "renaming "+a.work+" over it", err)
	}
	renamed = true
	if err := syncDir(filepath.Dir(a.path)); err != nil {
		return counts, fmt.Errorf("%s was adopted (backup %s), but its directory could not be synced: %s", a.path, a.backup, oneLine(err))
	}
	return counts, nil
}
