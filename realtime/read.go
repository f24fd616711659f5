package realtime

import (
	"bufio"
	"io"

	"github.com/gobwas/ws"
)

// readLoop reads client frames: text messages are ignored, pings answered,
// a close answered and ended. A binary message is a policy violation
// (1008), one over ReadLimit too big (1009), malformed frames a protocol
// error (1002).
func (c *conn) readLoop(br *bufio.Reader) {
	defer close(c.readDone)
	limit := c.room.hub.opts.ReadLimit
	var control [125]byte
	var size int64     // bytes of the message being read
	inMessage := false // a fragmented message is under way
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			c.vanish()
			return
		}
		switch {
		case !h.Masked || h.Rsv != 0:
			c.stop(CloseProtocol, "client frames must be masked and use no extensions", false)
			return
		case h.OpCode.IsControl():
			if h.Length > 125 || !h.Fin {
				c.stop(CloseProtocol, "bad control frame", false)
				return
			}
			p := control[:h.Length]
			if _, err := io.ReadFull(br, p); err != nil {
				c.vanish()
				return
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				if err := c.writeFrame(ws.NewPongFrame(p)); err != nil {
					c.vanish()
					return
				}
			case ws.OpPong:
				c.awaitPong.Store(false)
			case ws.OpClose:
				code, _ := ws.ParseCloseFrameData(p)
				if code == 0 {
					code = ws.StatusNormalClosure
				}
				c.closeReply(int(code))
				c.vanish()
				return
			default:
				c.stop(CloseProtocol, "unknown control frame", false)
				return
			}
			continue
		case h.OpCode == ws.OpBinary:
			c.stop(ClosePolicy, "binary messages are not accepted", false)
			return
		case h.OpCode == ws.OpText:
			if inMessage {
				c.stop(CloseProtocol, "new message inside a fragmented one", false)
				return
			}
			size = 0
		case h.OpCode == ws.OpContinuation:
			if !inMessage {
				c.stop(CloseProtocol, "continuation without a message", false)
				return
			}
		default:
			c.stop(CloseProtocol, "unknown opcode", false)
			return
		}
		size += h.Length
		if size > limit {
			c.stop(CloseTooBig, "message too big", false)
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			c.vanish()
			return
		}
		inMessage = !h.Fin
	}
}

// writeFrame writes a control frame from the reader.
func (c *conn) writeFrame(f ws.Frame) error {
	b, err := ws.CompileFrame(f)
	if err != nil {
		return err
	}
	return c.send(b)
}
