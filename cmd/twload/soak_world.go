package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// soakUser is a signed-up user; its token may be renewed while sockets and
// a writer use it.
type soakUser struct {
	id   int64
	name string
	tok  atomic.Pointer[string]
}

func (u *soakUser) token() string { return *u.tok.Load() }

// relogin replaces an expired token.
func (u *soakUser) relogin(ctx context.Context, api *rest) error {
	c := client{base: api.base, http: api.http}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", url.Values{"username": {u.name}, "password": {"load-password"}}, http.StatusOK, &tok); err != nil {
		return err
	}
	u.tok.Store(&tok.AccessToken)
	return nil
}

// soakWorld is what setup created.
type soakWorld struct {
	writers      []*writer
	members      []int64 // users in every project (writers and watchers)
	projects     []int64
	socks        []*wsClient
	projectSocks int
	socketUsers  int
}

// up counts the sockets connected now.
func (w *soakWorld) up() int {
	n := 0
	for _, s := range w.socks {
		if s.up.Load() {
			n++
		}
	}
	return n
}

// soakSetup signs up the writers (each owning a project every writer is a
// member of), one guest per writer (added to and removed from the
// writer's project during load) and, when the writers cannot hold the
// project sockets within perUserSockets each, watchers who only hold
// sockets.
func soakSetup(ctx context.Context, api *rest, writers, sockets int, notifyShare float64, out io.Writer) (*soakWorld, error) {
	nNotify := int(math.Round(float64(sockets) * min(max(notifyShare, 0), 1)))
	nProject := sockets - nNotify
	watchers := 0
	for ceilDiv(nProject, writers+watchers)+ceilDiv(nNotify, 2*writers+watchers) > perUserSockets {
		watchers++
	}
	run := fmt.Sprintf("s%d", time.Now().UnixNano())
	w := &soakWorld{}
	var owners, guests []*soakUser
	for i := range writers {
		u, err := signupSoakUser(ctx, api, fmt.Sprintf("%sw%d", run, i))
		if err != nil {
			return nil, err
		}
		g, err := signupSoakUser(ctx, api, fmt.Sprintf("%sg%d", run, i))
		if err != nil {
			return nil, err
		}
		owners, guests = append(owners, u), append(guests, g)
		w.writers = append(w.writers, &writer{u: u, guest: g, cursor: map[int64]int64{}})
	}
	for i := range watchers {
		u, err := signupSoakUser(ctx, api, fmt.Sprintf("%sv%d", run, i))
		if err != nil {
			return nil, err
		}
		owners = append(owners, u)
	}
	for _, u := range owners {
		w.members = append(w.members, u.id)
	}
	if err := w.createProjects(ctx, api, owners); err != nil {
		return nil, err
	}
	w.addSockets(nProject, nNotify, owners, slices.Concat(owners, guests))
	fmt.Fprintf(out, "setup: %d writers, %d guests, %d watchers, %d projects\n", writers, len(guests), watchers, len(w.projects))
	return w, nil
}

// signupSoakUser signs up and logs in the user name.
func signupSoakUser(ctx context.Context, api *rest, name string) (*soakUser, error) {
	c := client{base: api.base, http: api.http}
	id, err := c.login(ctx, name)
	if err != nil {
		if strings.Contains(err.Error(), "status 429") {
			err = fmt.Errorf("%w (start the server with RATE_LIMIT_AUTH=100000/minute)", err)
		}
		return nil, err
	}
	u := &soakUser{id: id, name: name}
	u.tok.Store(&c.token)
	return u, nil
}

// createProjects creates each writer's project with the other owners
// (writers and watchers; owners[i] is writer i) as its members.
func (w *soakWorld) createProjects(ctx context.Context, api *rest, owners []*soakUser) error {
	for i, wr := range w.writers {
		var p struct{ ID int64 }
		if _, err := api.want(ctx, wr.u, "setup", "POST", "/api/v1/projects/", map[string]string{"name": "soak " + wr.u.name}, nil, &p, 201); err != nil {
			return err
		}
		wr.own = p.ID
		w.projects = append(w.projects, p.ID)
		for j, m := range owners {
			if j == i {
				continue
			}
			if _, err := api.want(ctx, wr.u, "setup", "POST", fmt.Sprintf("/api/v1/projects/%d/members", p.ID), map[string]int64{"user_id": m.id}, nil, nil, 201); err != nil {
				return err
			}
		}
	}
	return nil
}

// addSockets creates nProject project sockets, spread over the projects
// and held by the owners in turn, and nNotify notification sockets held by
// everyone in turn.
func (w *soakWorld) addSockets(nProject, nNotify int, owners, everyone []*soakUser) {
	for i := range nProject {
		w.socks = append(w.socks, newWSClient(fmt.Sprintf("/ws/projects/%d", w.projects[i%len(w.projects)]), owners[i%len(owners)]))
	}
	for i := range nNotify {
		w.socks = append(w.socks, newWSClient("/ws/notifications", everyone[i%len(everyone)]))
	}
	w.projectSocks = nProject
	holders := map[*soakUser]bool{}
	for _, s := range w.socks {
		holders[s.user] = true
	}
	w.socketUsers = len(holders)
}

// ceilDiv divides a by b, rounding up.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// tailCheck waits until every socket has received its stream's last seq
// and reports how many never did, and how many were not connected.
func (w *soakWorld) tailCheck(ctx context.Context, api *rest, wait time.Duration) (behind, down int) {
	heads := map[*wsClient]int64{}
	projectHead := map[string]int64{}
	userHead := map[*soakUser]int64{}
	for _, s := range w.socks {
		var head int64
		if s.notifications {
			h, ok := userHead[s.user]
			if !ok {
				var ns []struct{ Seq int64 }
				if _, err := api.want(ctx, s.user, "tail: notifications", "GET", "/api/v1/notifications?limit=1", nil, nil, &ns, 200); err == nil && len(ns) > 0 {
					h = ns[0].Seq
				}
				userHead[s.user] = h
			}
			head = h
		} else {
			h, ok := projectHead[s.path]
			if !ok {
				// Events after the furthest socket of the room: the head is
				// the last of them.
				h = 0
				for _, o := range w.socks {
					if o.path == s.path {
						h = max(h, o.last.Load())
					}
				}
				var es []struct{ Seq int64 }
				path := strings.Replace(s.path, "/ws/projects/", "/api/v1/projects/", 1) + "/events?since=" + strconv.FormatInt(h, 10)
				if _, err := api.want(ctx, s.user, "tail: events", "GET", path, nil, nil, &es, 200); err == nil && len(es) > 0 {
					h = es[len(es)-1].Seq
				}
				projectHead[s.path] = h
			}
			head = h
		}
		heads[s] = head
	}
	deadline := time.Now().Add(wait)
	for {
		behind, down = 0, 0
		for s, head := range heads {
			if s.last.Load() < head {
				behind++
			}
			if !s.up.Load() {
				down++
			}
		}
		if behind == 0 && down == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return behind, down
		}
		time.Sleep(100 * time.Millisecond)
	}
}
