package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/sqlstore"
)

// BenchmarkTaskUpdate measures Service.SetTaskStatus on a real SQLite file
// with durable commits: load the task, check membership, update it, bump
// the project's seq and append the event, in one unit of work. The
// parallel variant shows group commit sharing fsyncs between writers.
func BenchmarkTaskUpdate(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			svc, owner, tasks := benchSetup(b, sync, 64)
			statuses := []taskwire.Status{taskwire.StatusInProgress, taskwire.StatusTodo}
			b.Run("serial", func(b *testing.B) {
				ctx := context.Background()
				i := 0
				for b.Loop() {
					if _, err := svc.SetTaskStatus(ctx, owner, tasks[0], statuses[i%2], nil); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("parallel", func(b *testing.B) {
				var next atomic.Int64
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					id := tasks[next.Add(1)%int64(len(tasks))]
					i := 0
					for pb.Next() {
						if _, err := svc.SetTaskStatus(ctx, owner, id, statuses[i%2], nil); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			})
		})
	}
}

func benchSetup(b *testing.B, sync string, n int) (*taskwire.Service, taskwire.User, []int64) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(b.TempDir(), "bench.db")}, sqlstore.Options{Synchronous: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	hasher, _ := auth.NewBcrypt(4)
	svc := taskwire.NewService(db, testenv.Discard{}, hasher, taskwire.Options{})
	owner, err := svc.Signup(ctx, taskwire.Signup{Email: "bench@example.com", Username: "bench", Password: "password"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := svc.CreateProject(ctx, owner, taskwire.NewProject{Name: "bench"}, taskwire.IdempotencyKey{})
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for i := range n {
		t, err := svc.CreateTask(ctx, owner, p.ID, taskwire.NewTask{Title: "t" + time.Duration(i).String()}, taskwire.IdempotencyKey{})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, t.ID)
	}
	return svc, owner, ids
}
