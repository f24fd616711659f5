package sqlstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv tells TestHelperProcess what to do: "crash:<step>" or "lock";
// helperPathEnv names the file.
const (
	helperEnv     = "TASKWIRE_ADOPT_HELPER"
	helperPathEnv = "TASKWIRE_ADOPT_PATH"
)

// TestHelperProcess is no test of its own: the adoption tests run this
// test binary again as a child process that either adopts a file and
// kills itself with SIGKILL at a step ("crash:<step>"), or holds SQLite's
// exclusive lock on a file until its stdin closes ("lock", printing
// "locked" once it holds it).
func TestHelperProcess(t *testing.T) {
	mode, path := os.Getenv(helperEnv), os.Getenv(helperPathEnv)
	switch {
	case mode == "":
		return
	case strings.HasPrefix(mode, "crash:"):
		at := strings.TrimPrefix(mode, "crash:")
		adoptStep = func(step string) {
			if step == at {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		_, err := Open(context.Background(), Target{Dialect: "sqlite", Path: path}, Options{})
		fmt.Fprintf(os.Stderr, "helper: adoption passed step %q without being killed (err %v)\n", at, err)
		os.Exit(2)
	case mode == "lock":
		db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_txlock=exclusive")
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		tx, err := db.Begin()
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = tx.Rollback()
		_ = db.Close()
		os.Exit(0)
	}
}

// HoldLock runs a child process that holds SQLite's exclusive lock on path
// until the returned function is called.
func HoldLock(t *testing.T, path string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=lock", helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lock helper said %q (%v)", line, err)
	}
	return func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("lock helper: %v", err)
		}
	}
}

func fixtureCopy(t *testing.T, dir string, perm os.FileMode) (path string, sum [32]byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/seed-peroxia.db")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "seed.db")
	if err := os.WriteFile(path, b, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path, sha256.Sum256(b)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestAdoptCrash kills an adoption at each of its steps and expects the
// original byte for byte as it was, then a later start to adopt it.
func TestAdoptCrash(t *testing.T) {
	ctx := context.Background()
	var steps []string
	adoptStep = func(s string) { steps = append(steps, s) }
	t.Cleanup(func() { adoptStep = nil })
	path, _ := fixtureCopy(t, t.TempDir(), 0o644)
	if err := prepareSQLite(ctx, path, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	adoptStep = nil
	if want := []string{"backup", "copy", "migrate", "rows", "rename"}; !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}

	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path, want := fixtureCopy(t, dir, 0o644)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
			cmd.Env = append(os.Environ(), helperEnv+"=crash:"+step, helperPathEnv+"="+path)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper: %v, want killed by SIGKILL\n%s", err, out)
			}
			if fileSum(t, path) != want {
				t.Fatal("the original changed")
			}
			for _, suffix := range []string{"-journal", "-wal", "-shm"} {
				if _, err := os.Lstat(path + suffix); err == nil {
					t.Errorf("%s left beside the original", suffix)
				}
			}
			// A backup's name only ever holds a whole copy.
			backups, _ := filepath.Glob(path + backupInfix + "*")
			for _, b := range backups {
				if fileSum(t, b) != want {
					t.Errorf("backup %s differs from the original", b)
				}
			}

			db, err := Open(ctx, Target{Dialect: "sqlite", Path: path}, Options{})
			if err != nil {
				t.Fatalf("Open after the crash: %v", err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if u, err := db.UserByUsername(ctx, "dee"); err != nil || u.ID != 4 {
				t.Fatalf("dee = %+v, %v", u, err)
			}
			if left, _ := filepath.Glob(path + workInfix + "*"); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if after, _ := filepath.Glob(path + backupInfix + "*"); len(after) != len(backups)+1 {
				t.Errorf("backups %v after the crash, %v after adopting", backups, after)
			}
		})
	}
}

// TestAdoptedFile: the file swapped in is in rollback-journal mode (the
// normal open converts it to WAL), whole, with the original's mode, the
// next ids after the seed's, and a stale work copy is gone.
func TestAdoptedFile(t *testing.T) {
	ctx := context.Background()
	path, _ := fixtureCopy(t, t.TempDir(), 0o640)
	stale := path + workInfix + "999999"
	if err := os.WriteFile(stale, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A backup of this second, left by an earlier start, stays as it is.
	earlier := path + backupInfix + time.Now().UTC().Format("20060102T150405Z")
	if err := os.WriteFile(earlier, []byte("an earlier backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(path, 1234, 5678); err != nil {
			t.Fatal(err)
		}
	}
	if err := prepareSQLite(ctx, path, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale work copy: %v", err)
	}
	backups, _ := filepath.Glob(path + backupInfix + "*")
	if b, err := os.ReadFile(earlier); len(backups) != 2 || err != nil || string(b) != "an earlier backup" {
		t.Errorf("backups %v; the earlier one holds %q (%v)", backups, b, err)
	}
	if root {
		for _, f := range []string{path, backups[len(backups)-1]} {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 1234 || sys.Gid != 5678 {
				t.Errorf("%s is owned by %d:%d, want the original's 1234:5678", f, sys.Uid, sys.Gid)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b[18] != 1 || b[19] != 1 {
		t.Errorf("header bytes 18–19 = %d %d, want 1 1 (rollback journal)", b[18], b[19])
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v (%v), want 0640", st.Mode().Perm(), err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var check string
	if err := raw.QueryRow("PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("quick_check %q, %v", check, err)
	}
	seqs := map[string]int64{}
	rows, err := raw.Query("SELECT name, seq FROM sqlite_sequence WHERE name IN ('users', 'projects', 'project_members', 'tasks')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			t.Fatal(err)
		}
		seqs[name] = seq
	}
	if want := map[string]int64{"users": 4, "projects": 2, "project_members": 5, "tasks": 5}; fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("sqlite_sequence %v, want %v", seqs, want)
	}
	tables, err := inspect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	for name := range tables {
		if strings.HasPrefix(name, "seed_") {
			t.Errorf("table %s left behind", name)
		}
	}
}

// TestLockWritesNothing: taking and releasing adoption's lock (BEGIN
// EXCLUSIVE on a connection without pragmas) changes no byte of the file,
// not its modification time, and leaves no file beside it.
func TestLockWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path, want := fixtureCopy(t, dir, 0o644)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	release, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("while locked the directory holds %d files", len(entries))
	}
	if fileSum(t, path) != want {
		t.Error("locking changed the file")
	}
	release()
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fileSum(t, path) != want || !after.ModTime().Equal(before.ModTime()) {
		t.Error("locking changed the file or its modification time")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("after the lock the directory holds %d files", len(entries))
	}
}
