package redisbroker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/realtime"
)

func TestEncodeDecode(t *testing.T) {
	for _, m := range []realtime.Message{
		{Kind: realtime.ProjectStream, ID: 7, Seq: 42, Payload: []byte(`{"event":"task_created"}`), Revoke: -1},
		{Kind: realtime.UserStream, ID: 1 << 40, Seq: 1, Payload: []byte(`{}`)},
		{Kind: realtime.ProjectStream, ID: 3, Payload: []byte(`{"event":"presence_joined"}`), Origin: "host-12-abcd"},
		{Kind: realtime.TokenRevoked, ID: 12},
	} {
		got, err := decode(encode(m))
		if err != nil || got.Kind != m.Kind || got.ID != m.ID || got.Seq != m.Seq || got.Revoke != m.Revoke ||
			got.Origin != m.Origin || !bytes.Equal(got.Payload, m.Payload) {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", m, got, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(realtime.Message{Kind: realtime.ProjectStream, ID: 1, Seq: 2, Payload: []byte("{}"), Origin: "o"}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	f.Add(append(make([]byte, 25), 200))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err == nil && m.Kind != realtime.ProjectStream && m.Kind != realtime.UserStream && m.Kind != realtime.TokenRevoked {
			t.Fatalf("decoded a message of kind %d", m.Kind)
		}
	})
}

// redisClient connects to TASKWIRE_TEST_REDIS_URL; skipped without it, a
// failure when TASKWIRE_REQUIRE_SERVICES=1.
func redisClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	u := testenv.Service(t, "TASKWIRE_TEST_REDIS_URL")
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	var b [4]byte
	_, _ = rand.Read(b[:])
	return c, "twtest" + hex.EncodeToString(b[:]) + ":"
}

// TestBrokersCarryMessages: a message published on one broker reaches
// another that subscribed to its stream, and only such a one.
func TestBrokersCarryMessages(t *testing.T) {
	c, prefix := redisClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	a, err := New(ctx, logger, c, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, logger, c, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan realtime.Message, 16)
	go a.Run(ctx, func(realtime.Message) {})
	go b.Run(ctx, func(m realtime.Message) {
		if m.Kind != 0 {
			got <- m
		}
	})
	b.Subscribe(realtime.ProjectStream, 5)
	time.Sleep(200 * time.Millisecond)
	a.Publish(realtime.Message{Kind: realtime.ProjectStream, ID: 6, Seq: 1, Payload: []byte(`{"other":1}`)})
	a.Publish(realtime.Message{Kind: realtime.ProjectStream, ID: 5, Seq: 1, Payload: []byte(`{"mine":1}`)})
	select {
	case m := <-got:
		if m.ID != 5 || string(m.Payload) != `{"mine":1}` {
			t.Fatalf("received %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("nothing received")
	}
	select {
	case m := <-got:
		t.Fatalf("received a message of an unsubscribed stream: %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestTokenRevocationsReachEveryBroker: an API token's revocation reaches
// every instance, its own included, without any subscription asked for.
func TestTokenRevocationsReachEveryBroker(t *testing.T) {
	c, prefix := redisClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	type received struct {
		broker string
		m      realtime.Message
	}
	got := make(chan received, 16)
	subscribed := make(chan struct{}, 2)
	var brokers []*Broker
	for _, name := range []string{"a", "b"} {
		br, err := New(ctx, logger, c, prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		brokers = append(brokers, br)
		go br.Run(ctx, func(m realtime.Message) {
			if m.Kind == 0 {
				subscribed <- struct{}{}
				return
			}
			got <- received{name, m}
		})
	}
	for range brokers {
		select {
		case <-subscribed:
		case <-ctx.Done():
			t.Fatal("not subscribed")
		}
	}
	brokers[0].Publish(realtime.Message{Kind: realtime.TokenRevoked, ID: 42})
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case r := <-got:
			if r.m.Kind != realtime.TokenRevoked || r.m.ID != 42 {
				t.Fatalf("broker %s received %+v", r.broker, r.m)
			}
			seen[r.broker] = true
		case <-ctx.Done():
			t.Fatalf("revocation reached only %v", seen)
		}
	}
}

// TestLimiterIsShared: two limiters on the same keys count together.
func TestLimiterIsShared(t *testing.T) {
	c, prefix := redisClient(t)
	rate := auth.Rate{N: 3, Period: time.Minute}
	a, b := NewLimiter(c, prefix, rate), NewLimiter(c, prefix, rate)
	ctx := context.Background()
	for i, l := range []*Limiter{a, b, a} {
		if ok, _ := l.Allow(ctx, "1.2.3.4"); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	if ok, wait := b.Allow(ctx, "1.2.3.4"); ok || wait <= 0 {
		t.Fatalf("4th request: ok %v, wait %v; want refused with a wait", ok, wait)
	}
	if ok, _ := b.Allow(ctx, "5.6.7.8"); !ok {
		t.Fatal("another address was refused")
	}
}
