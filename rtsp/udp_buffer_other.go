//go:build !linux

package rtsp

import (
	"log/slog"
	"net"
)

func setReadBuffer(pc *net.UDPConn, want int, log *slog.Logger) {
	if err := pc.SetReadBuffer(want); err != nil {
		log.Warn("rtsp udp read buffer not set", "err", err, "bytes", want)
	}
}
