package rtsp

import (
	"log/slog"
	"net"
	"syscall"
)

// setReadBuffer sizes a UDP socket's kernel receive buffer. Keyframe bursts
// from hundreds of publishers arrive together, so the buffer must be large;
// net.core.rmem_max (often 208 KiB to 4 MiB) caps SetReadBuffer, so
// SO_RCVBUFFORCE is tried first (allowed with CAP_NET_ADMIN, which root and
// the systemd unit have). The effective size is logged when it falls short.
func setReadBuffer(pc *net.UDPConn, want int, log *slog.Logger) {
	raw, err := pc.SyscallConn()
	if err != nil {
		return
	}
	forced := false
	_ = raw.Control(func(fd uintptr) {
		forced = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, want) == nil
	})
	if !forced {
		if err := pc.SetReadBuffer(want); err != nil {
			log.Warn("rtsp udp read buffer not set", "err", err, "bytes", want)
		}
	}
	var got int
	_ = raw.Control(func(fd uintptr) {
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	// Linux reports twice the requested size (it counts its bookkeeping).
	if got/2 < want {
		log.Warn("rtsp udp read buffer smaller than configured; raise net.core.rmem_max or grant CAP_NET_ADMIN",
			"bytes", got/2, "want", want)
	}
}
