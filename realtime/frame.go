package realtime

import (
	"bytes"
	"strconv"

	"github.com/gobwas/ws"
	"github.com/taskwire/taskwire"
)

var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))

// textFrame encodes payload as one unmasked text frame.
func textFrame(payload []byte) []byte {
	b, err := ws.CompileFrame(ws.NewTextFrame(payload))
	if err != nil {
		panic(err) // only for lengths over 2^63
	}
	return b
}

// closeFrame encodes a close frame.
func closeFrame(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
}

// Control messages of protocol 2; asyncapi.yaml documents them.
const (
	TypeCaughtUp  = "caught_up"
	TypeHeartbeat = "heartbeat"
)

// controlFrame encodes {"event":"<typ>","seq":S} as a text frame.
func controlFrame(typ string, seq int64) []byte {
	b := make([]byte, 0, 48)
	b = append(b, `{"event":"`...)
	b = append(b, typ...)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return textFrame(append(b, '}'))
}

// seedTypes prefix the payloads of the seed's three event types, the only
// ones a protocol 1 socket is sent. Event.AppendJSON writes the type
// first, so the type is known without decoding the payload — which may
// have come from another instance through the broker.
var seedTypes = func() [][]byte {
	var out [][]byte
	for _, t := range taskwire.SeedEventTypes {
		out = append(out, []byte(`{"event":"`+string(t)+`",`))
	}
	return out
}()

// seedEvent reports whether a payload of the log is one of the seed's
// event types.
func seedEvent(payload []byte) bool {
	for _, p := range seedTypes {
		if bytes.HasPrefix(payload, p) {
			return true
		}
	}
	return false
}
