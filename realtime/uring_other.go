//go:build !linux

package realtime

import (
	"errors"
	"net"
)

// uring is Linux's io_uring; elsewhere sockets are written with writev.
type uring struct{}

var uringSetupFault error

func newURing(uint32) (*uring, error) {
	if uringSetupFault != nil {
		return nil, uringSetupFault
	}
	return nil, errors.New("io_uring is Linux only")
}

func (u *uring) start()                                   {}
func (u *uring) close()                                   {}
func (u *uring) send(int, net.Buffers) (int, error, bool) { return 0, nil, false }
func (u *uring) stats() (submissions, sends uint64)       { return 0, 0 }
