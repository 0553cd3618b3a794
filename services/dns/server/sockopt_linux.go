package server

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func setsockopts(fd int, network string, reuse bool) error {
	if reuse {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("set SO_REUSEPORT: %w", err)
		}
	}
	// Either level may not apply to the socket's family; one must take.
	e4 := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_FREEBIND, 1)
	e6 := unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
	if e4 != nil && e6 != nil {
		return fmt.Errorf("set IP_FREEBIND on %s socket: %w", network, e4)
	}
	return nil
}
