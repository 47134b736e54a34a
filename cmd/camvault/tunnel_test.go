package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/coder/websocket"

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/internal/rtspservertest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp"
)

// TestHTTPPortTunnels: the HTTP port hands the RTSP tunnels to the RTSP server (rtspTunnels):
// RTSP over HTTP and over WebSocket answer RTSP there, and their connections count in the
// RTSP server's.
func TestHTTPPortTunnels(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	access, err := newRTSPAuth(defaultConfig(), log)
	if err != nil {
		t.Fatal(err)
	}
	srv := rtspservertest.Start(t, rtsp.Config{Handler: rtspHandler{access: access}, Access: access.rtspAccess(), DisableUDP: true})
	web, err := api.New(api.Config{Address: "127.0.0.1:0"}, api.Deps{Authority: access.authority, Tunnels: rtspTunnels{srv: srv}})
	if err != nil {
		t.Fatal(err)
	}
	if err := web.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- web.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := web.Addr().String()
	// Answered once Run serves (its listener is bound already): ServeConn takes connections then.
	rtsptest.ExpectStatus(t, rtsptest.DialPlayer(t, srv.Addr().String()).Do("OPTIONS", "*", nil, ""), 200)
	tu := rtsptest.DialTunnel(t, addr, "/cam", "c00k1e")
	if tu.Status != 200 {
		t.Fatalf("tunnel GET on the HTTP port: %d", tu.Status)
	}
	tu.OpenPost(t, "")
	rtsptest.ExpectStatus(t, rtsptest.NewPlayer(t, tu, "rtsp://"+addr).Do("OPTIONS", "*", nil, ""), 200)

	wctx, wcancel := context.WithTimeout(ctx, rtsptest.Timeout)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws://"+addr+"/cam", &websocket.DialOptions{Subprotocols: []string{"rtsp.onvif.org"}})
	if err != nil {
		t.Fatal(err)
	}
	nc := websocket.NetConn(wctx, ws, websocket.MessageBinary)
	defer nc.Close()
	rtsptest.ExpectStatus(t, rtsptest.NewPlayer(t, nc, "rtsp://"+addr).Do("OPTIONS", "*", nil, ""), 200)
	if n := srv.Stats().Connections; n < 3 {
		t.Fatalf("%d RTSP connections, want the tunnel's GET and POST and the WebSocket", n)
	}
}
