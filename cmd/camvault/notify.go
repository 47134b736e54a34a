package main

import (
	"net"
	"os"
)

// notify sends a state line to systemd when started as a Type=notify
// service (sd_notify protocol); elsewhere it does nothing.
func notify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return // not fatal: systemd then times the start out and says so
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(state))
}
