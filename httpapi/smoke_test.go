package httpapi_test

import (
	"net/http"
	"testing"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("alice")
	pid := e.project(tok)
	task := e.task(tok, pid, "hello")
	r := e.do("GET", "/api/v1/tasks/"+itoa(task.ID), tok, nil)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("get task: %d %s %v", r.Status, r.Body, r.Header)
	}
}
