package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
)

// serverFrame encodes an unmasked frame as a server sends it.
func serverFrame(t *testing.T, w *bytes.Buffer, fin bool, op ws.OpCode, payload string) {
	t.Helper()
	f := ws.NewFrame(op, fin, []byte(payload))
	if err := ws.WriteFrame(w, f); err != nil {
		t.Fatal(err)
	}
}

func TestReadMessageJoinsFragmentsAndAnswersPings(t *testing.T) {
	var in, out bytes.Buffer
	serverFrame(t, &in, false, ws.OpText, `{"push":{"channel":"c","pub":{"data":{"seq":1}}}}`+"\n"+`{"push":`)
	serverFrame(t, &in, true, ws.OpPing, "p")
	serverFrame(t, &in, false, ws.OpContinuation, `{"channel":"c","pub":`)
	serverFrame(t, &in, true, ws.OpContinuation, `{"data":{"seq":2}}}}`)
	serverFrame(t, &in, true, ws.OpClose, "\x03\xe8bye")

	msg, op, err := readMessage(&in, &out, nil)
	if err != nil || op != ws.OpText {
		t.Fatalf("readMessage: op %v, err %v", op, err)
	}
	want := `{"push":{"channel":"c","pub":{"data":{"seq":1}}}}` + "\n" + `{"push":{"channel":"c","pub":{"data":{"seq":2}}}}`
	if string(msg) != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	// The ping between the fragments got its pong, masked as a client's.
	h, err := ws.ReadHeader(&out)
	if err != nil || h.OpCode != ws.OpPong || !h.Masked || h.Length != 1 {
		t.Fatalf("pong header %+v, err %v", h, err)
	}
	out.Next(1)

	msg, op, err = readMessage(&in, &out, nil)
	if err != nil || op != ws.OpClose || closeReason(msg) != `code 1000 "bye"` {
		t.Fatalf("close: op %v, %q, err %v", op, msg, err)
	}
}

func TestCentrifugoSeq(t *testing.T) {
	for _, tc := range []struct {
		line string
		seq  int64
		ok   bool
	}{
		{`{"push":{"channel":"twload","pub":{"data":{"seq":42,"sent":1765000000000000000,"pad":"xx"}}}}`, 42, true},
		{`{"push":{"channel":"twload","pub":{"data":{"seq":7,"sent":1,"pad":""},"offset":9}}}`, 7, true}, // with history
		{`{"id":2,"subscribe":{}}`, 0, false},
		{`{}`, 0, false},
		{`{"push":{"channel":"twload","join":{"info":{"user":"u1"}}}}`, 0, false},
		{`{"push":{"channel":"twload","pub":{"data":{"seq":x}}}}`, 0, false},
	} {
		seq, ok := centrifugoSeq([]byte(tc.line))
		if seq != tc.seq || ok != tc.ok {
			t.Errorf("centrifugoSeq(%s) = %d, %v; want %d, %v", tc.line, seq, ok, tc.seq, tc.ok)
		}
	}
}

// TestReadCentrifugoAccounting feeds a socket, over a real loopback
// connection, publications in frames of one and of several (newline-
// separated) messages, with a duplicate, a gap and a reordering, and an
// application ping, and checks what the reader counted and that it sent
// the pong.
func TestReadCentrifugoAccounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer srv.Close()

	pub := func(seq string) string {
		return `{"push":{"channel":"twload","pub":{"data":{"seq":` + seq + `,"sent":1,"pad":""}}}}`
	}
	var frames bytes.Buffer
	serverFrame(t, &frames, true, ws.OpText, pub("1"))
	serverFrame(t, &frames, true, ws.OpText, pub("2")+"\n"+pub("3")+"\n"+pub("3")) // a duplicate
	serverFrame(t, &frames, true, ws.OpText, "{}")                                 // ping
	serverFrame(t, &frames, true, ws.OpText, pub("5")+"\n"+pub("4"))               // 4 missed, then late
	serverFrame(t, &frames, true, ws.OpText, "{}")                                 // another ping: each gets its pong
	serverFrame(t, &frames, true, ws.OpText, pub("6"))
	serverFrame(t, &frames, true, ws.OpClose, "\x03\xe8")
	if _, err := srv.Write(frames.Bytes()); err != nil {
		t.Fatal(err)
	}

	sentAt := make([]atomic.Int64, 10)
	for i := range sentAt {
		sentAt[i].Store(1) // every latency is then "now - 1 ns": positive
	}
	var delivered atomic.Int64
	s := &sock{nc: nc}
	done := make(chan struct{})
	go func() {
		s.readCentrifugo(context.Background(), sentAt, &delivered)
		close(done)
	}()

	// The server closes: the reader stops and marks the socket closed.
	<-done
	nc.Close()

	// The reader wrote the pongs before it read the close: masked text
	// frames "{}", then nothing (it has closed its end).
	in := bufio.NewReader(srv)
	for range 2 {
		h, err := ws.ReadHeader(in)
		if err != nil || h.OpCode != ws.OpText || !h.Masked || h.Length != 2 {
			t.Fatalf("pong header %+v, err %v", h, err)
		}
		p := make([]byte, 2)
		if _, err := io.ReadFull(in, p); err != nil {
			t.Fatal(err)
		}
		ws.Cipher(p, h.Mask, 0)
		if string(p) != "{}" {
			t.Fatalf("pong %q", p)
		}
	}

	if _, err := in.ReadByte(); err != io.EOF {
		t.Fatalf("after the pongs: %v, want EOF", err)
	}

	if got := delivered.Load(); got != 7 {
		t.Errorf("delivered %d, want 7", got)
	}
	if s.dups != 2 || s.gaps != 1 || s.ooo != 1 || s.lastSeq.Load() != 6 || !s.closed.Load() {
		t.Errorf("dups %d gaps %d ooo %d last %d closed %v; want 2 1 1 6 true", s.dups, s.gaps, s.ooo, s.lastSeq.Load(), s.closed.Load())
	}
	if s.beats.Load() != 2 {
		t.Errorf("%d pings counted, want 2", s.beats.Load())
	}
	if len(s.lat) != 5 {
		t.Errorf("%d latencies, want 5 (1, 2, 3, 5, 6)", len(s.lat))
	}
}
