//go:build linux

package realtime

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A uring sends the frames of many sockets with one io_uring_enter: the
// writers that have something to send at one moment hand it to the ring's
// goroutine, which puts one IORING_OP_SENDMSG per socket in the submission
// queue, submits them all at once and waits for their completions. Every
// send carries MSG_DONTWAIT: a socket whose buffer is full completes at
// once with EAGAIN instead of being parked inside the kernel, so one slow
// client never holds up the batch; its writer finishes on the writev path.
// The kernel interface is used through raw system calls (see the README's
// architecture section for why).
type uring struct {
	fd      int
	entries uint32

	sqMem, cqMem, sqeMem []byte
	sqHead, sqTail       *uint32
	sqMask               uint32
	sqArray              unsafe.Pointer // [entries]uint32
	sqes                 unsafe.Pointer // [entries]uringSQE
	cqHead, cqTail       *uint32
	cqMask               uint32
	cqes                 unsafe.Pointer // [cqEntries]uringCQE

	mu     sync.RWMutex // held shared while a request is queued; closed under it exclusively
	closed bool
	reqs   chan *uringReq
	stop   chan struct{}
	done   chan struct{}

	// Owned by the loop: the batch and the kernel-facing memory it
	// points into, reused from batch to batch.
	batch []*uringReq
	msgs  []unix.Msghdr
	iovs  []unix.Iovec

	submissions atomic.Uint64 // io_uring_enter calls that submitted sends
	sends       atomic.Uint64 // sends submitted
}

// uringReq is one socket's send, from its writer to the ring and back.
type uringReq struct {
	fd   int
	bufs net.Buffers
	res  int32 // the completion: bytes sent, or -errno
	done chan struct{}
}

var uringReqPool = sync.Pool{New: func() any { return &uringReq{done: make(chan struct{}, 1)} }}

// The kernel's structures (include/uapi/linux/io_uring.h).
type uringSQRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  uringSQRingOffsets
	cqOff                                                                  uringCQRingOffsets
}

type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	msgFlags    uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFDIn  int32
	pad         [2]uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

const (
	uringOpSendmsg      = 9
	uringEnterGetEvents = 1
	uringOffSQRing      = 0
	uringOffCQRing      = 0x8000000
	uringOffSQEs        = 0x10000000
	uringSendFlags      = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
)

// uringSetupFault is a fault injection seam for tests: when set,
// newURing fails with it instead of calling io_uring_setup, as it does on
// a kernel or container that refuses io_uring.
var uringSetupFault error

// newURing sets up a ring of entries sends and checks that the kernel
// gives it the semantics the hub relies on; it starts no goroutine.
func newURing(entries uint32) (*uring, error) {
	if uringSetupFault != nil {
		return nil, uringSetupFault
	}
	var p uringParams
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	u := &uring{fd: int(fd), entries: p.sqEntries}
	ok := false
	defer func() {
		if !ok {
			u.unmap()
		}
	}()
	var err error
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE
	if u.sqMem, err = unix.Mmap(u.fd, uringOffSQRing, int(p.sqOff.array+p.sqEntries*4), prot, flags); err != nil {
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	if u.cqMem, err = unix.Mmap(u.fd, uringOffCQRing, int(p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{}))), prot, flags); err != nil {
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	if u.sqeMem, err = unix.Mmap(u.fd, uringOffSQEs, int(p.sqEntries*uint32(unsafe.Sizeof(uringSQE{}))), prot, flags); err != nil {
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	sq, cq := unsafe.Pointer(&u.sqMem[0]), unsafe.Pointer(&u.cqMem[0])
	u.sqHead = (*uint32)(unsafe.Add(sq, p.sqOff.head))
	u.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	u.sqMask = *(*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	u.sqArray = unsafe.Add(sq, p.sqOff.array)
	u.sqes = unsafe.Pointer(&u.sqeMem[0])
	u.cqHead = (*uint32)(unsafe.Add(cq, p.cqOff.head))
	u.cqTail = (*uint32)(unsafe.Add(cq, p.cqOff.tail))
	u.cqMask = *(*uint32)(unsafe.Add(cq, p.cqOff.ringMask))
	u.cqes = unsafe.Add(cq, p.cqOff.cqes)
	if err := u.probe(); err != nil {
		return nil, err
	}
	ok = true
	u.reqs = make(chan *uringReq, u.entries)
	u.stop = make(chan struct{})
	u.done = make(chan struct{})
	return u, nil
}

// probe checks on a socket pair that a send completes within the
// submission, and that a send to a full socket completes with EAGAIN
// rather than waiting in the kernel (a kernel that parks it would let one
// client that does not read stall every socket of a batch).
func (u *uring) probe() error {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("io_uring probe: socketpair: %w", err)
	}
	defer unix.Close(pair[0])
	defer unix.Close(pair[1])
	b := []byte("probe")
	if res, err := u.probeSend(pair[0], b); err != nil {
		return err
	} else if res != int32(len(b)) {
		return fmt.Errorf("io_uring probe: a send to an empty socket returned %d: %w", res, errnoOf(res))
	}
	_ = unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	fill := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(pair[0], fill); err != nil {
			if err == unix.EAGAIN {
				break
			}
			return fmt.Errorf("io_uring probe: filling a socket: %w", err)
		}
	}
	if res, err := u.probeSend(pair[0], b); err != nil {
		return err
	} else if res != -int32(unix.EAGAIN) {
		return fmt.Errorf("io_uring probe: a send to a full socket returned %d, not EAGAIN", res)
	}
	return nil
}

// probeSend submits one send without waiting for its completion and
// returns the completion the submission left in the queue.
func (u *uring) probeSend(fd int, b []byte) (int32, error) {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	msg := unix.Msghdr{Iov: &iov}
	msg.SetIovlen(1)
	tail := *u.sqTail
	u.fillSQE(tail, fd, &msg, 0)
	atomic.StoreUint32(u.sqTail, tail+1)
	for {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 1, 0, 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, fmt.Errorf("io_uring_enter: %w", errno)
		}
		break
	}
	runtime.KeepAlive(&msg)
	runtime.KeepAlive(b)
	head := atomic.LoadUint32(u.cqHead)
	if head == atomic.LoadUint32(u.cqTail) {
		return 0, errors.New("io_uring probe: a non-blocking send did not complete within its submission")
	}
	res := u.cqe(head).res
	atomic.StoreUint32(u.cqHead, head+1)
	return res, nil
}

func errnoOf(res int32) error {
	if res < 0 {
		return unix.Errno(-res)
	}
	return nil
}

func (u *uring) fillSQE(pos uint32, fd int, msg *unix.Msghdr, userData uint64) {
	i := pos & u.sqMask
	*(*uringSQE)(unsafe.Add(u.sqes, uintptr(i)*unsafe.Sizeof(uringSQE{}))) = uringSQE{
		opcode: uringOpSendmsg, fd: int32(fd), addr: uint64(uintptr(unsafe.Pointer(msg))), len: 1,
		msgFlags: uringSendFlags, userData: userData,
	}
	*(*uint32)(unsafe.Add(u.sqArray, uintptr(i)*4)) = i
}

func (u *uring) cqe(pos uint32) *uringCQE {
	return (*uringCQE)(unsafe.Add(u.cqes, uintptr(pos&u.cqMask)*unsafe.Sizeof(uringCQE{})))
}

func (u *uring) unmap() {
	for _, m := range [][]byte{u.sqMem, u.cqMem, u.sqeMem} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	u.sqMem, u.cqMem, u.sqeMem = nil, nil, nil
	unix.Close(u.fd)
}

// start runs the ring's goroutine until close.
func (u *uring) start() { go u.loop() }

// close stops taking sends, lets the goroutine send what was queued, and
// releases the ring once it has returned. Sends asked for afterwards
// report that the ring is closed, and go the writev way.
func (u *uring) close() {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	u.closed = true
	u.mu.Unlock()
	close(u.stop)
	<-u.done
}

// send hands bufs to the ring for fd and waits for the outcome: the bytes
// the kernel took, or its error (EAGAIN for a full socket). ok is false
// when the ring is closed and nothing was tried.
func (u *uring) send(fd int, bufs net.Buffers) (n int, err error, ok bool) {
	r := uringReqPool.Get().(*uringReq)
	r.fd, r.bufs, r.res = fd, bufs, -int32(unix.EIO) // EIO unless a completion says otherwise
	u.mu.RLock()
	if u.closed {
		u.mu.RUnlock()
		r.bufs = nil
		uringReqPool.Put(r)
		return 0, nil, false
	}
	u.reqs <- r
	u.mu.RUnlock()
	<-r.done
	res := r.res
	r.bufs = nil
	uringReqPool.Put(r)
	if res < 0 {
		return 0, unix.Errno(-res), true
	}
	return int(res), nil, true
}

func (u *uring) loop() {
	defer close(u.done)
	defer u.unmap()
	for {
		var first *uringReq
		select {
		case first = <-u.reqs:
		case <-u.stop:
			// Every send queued before close is in reqs: send them.
			for {
				batch := u.drain(u.batch[:0])
				if len(batch) == 0 {
					return
				}
				u.run(batch)
			}
		}
		batch := append(u.batch[:0], first)
		// Let the writers that are runnable now queue their sends too,
		// while any do: that is the batch.
		for range 8 {
			runtime.Gosched()
			n := len(batch)
			if batch = u.drain(batch); len(batch) == n {
				break
			}
		}
		u.run(batch)
	}
}

// drain appends the queued sends to batch, up to the ring's size.
func (u *uring) drain(batch []*uringReq) []*uringReq {
	for len(batch) < int(u.entries) {
		select {
		case r := <-u.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// run submits one send per request with one io_uring_enter, waits for
// all their completions and hands each to its writer.
func (u *uring) run(batch []*uringReq) {
	total := 0
	for _, r := range batch {
		total += len(r.bufs)
	}
	if cap(u.iovs) < total {
		u.iovs = make([]unix.Iovec, total)
	}
	if cap(u.msgs) < len(batch) {
		u.msgs = make([]unix.Msghdr, len(batch))
	}
	iovs, msgs := u.iovs[:total], u.msgs[:len(batch)]
	tail := *u.sqTail
	k := 0
	for i, r := range batch {
		start := k
		for _, b := range r.bufs {
			if len(b) > 0 {
				iovs[k] = unix.Iovec{Base: &b[0]}
				iovs[k].SetLen(len(b))
				k++
			}
		}
		msgs[i] = unix.Msghdr{}
		if k > start {
			msgs[i].Iov = &iovs[start]
			msgs[i].SetIovlen(k - start)
		}
		u.fillSQE(tail+uint32(i), r.fd, &msgs[i], uint64(i))
	}
	n := uint32(len(batch))
	atomic.StoreUint32(u.sqTail, tail+n)
	u.submissions.Add(1)
	u.sends.Add(uint64(n))
	completed := uint32(0)
	var failed error
	for completed < n {
		toSubmit := tail + n - atomic.LoadUint32(u.sqHead)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), uintptr(toSubmit), uintptr(n-completed), uringEnterGetEvents, 0, 0)
		if errno != 0 && errno != unix.EINTR && errno != unix.EAGAIN && errno != unix.EBUSY {
			failed = errno
		}
		head, ctail := atomic.LoadUint32(u.cqHead), atomic.LoadUint32(u.cqTail)
		for ; head != ctail; head++ {
			c := u.cqe(head)
			batch[c.userData].res = c.res
			completed++
		}
		atomic.StoreUint32(u.cqHead, head)
		if failed != nil && completed < n {
			// The ring is broken (it should not be): sends not yet
			// completed are failed, which closes their sockets without
			// a close frame — their clients resume with since. None is
			// tried again, as one may yet go out.
			break
		}
	}
	for i, r := range batch {
		r.done <- struct{}{}
		batch[i] = nil
	}
	clear(iovs[:k])
	clear(msgs)
	u.batch = batch[:0]
}

func (u *uring) stats() (submissions, sends uint64) {
	return u.submissions.Load(), u.sends.Load()
}
