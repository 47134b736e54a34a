package main

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
)

// TestHandlerRights: every ANNOUNCE and DESCRIBE is checked before the
// handler looks at the camera; an anonymous refusal is 401 (it gets the
// challenges, and never tells whether the camera exists), an authenticated
// one 403. Without users, anonymous clients are served from loopback only.
func TestHandlerRights(t *testing.T) {
	t.Parallel()
	loop, remote := netip.MustParseAddrPort("127.0.0.1:4000"), netip.MustParseAddrPort("192.0.2.9:4000")
	newAccess := func(users []auth.UserConfig) *rtspAuth {
		cfg := defaultConfig()
		cfg.Users = users
		a, err := newRTSPAuth(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	open := newAccess(nil)
	users := newAccess([]auth.UserConfig{
		{Name: "viewer", DigestMD5: testHA1, Permissions: []auth.Permission{{Action: "playback", Cameras: []string{"lobby-*"}}}},
		{Name: "door", DigestMD5: testHA1, Permissions: []auth.Permission{{Action: "publish", Cameras: []string{"door"}}}},
	})
	for _, tc := range []struct {
		name   string
		access *rtspAuth
		user   string
		peer   netip.AddrPort
		action auth.Action
		camera string
		status int // 0: allowed
	}{
		{"no users, loopback", open, "", loop, auth.ActionPublish, "door", 0},
		{"no users, remote", open, "", remote, auth.ActionPlayback, "door", 401},
		{"anonymous with users", users, "", loop, auth.ActionPlayback, "lobby-1", 401},
		{"viewer plays its camera", users, "viewer", remote, auth.ActionPlayback, "lobby-1", 0},
		{"viewer, another camera", users, "viewer", remote, auth.ActionPlayback, "door", 403},
		{"viewer cannot publish", users, "viewer", remote, auth.ActionPublish, "lobby-1", 403},
		{"camera publishes itself", users, "door", remote, auth.ActionPublish, "door", 0},
		{"camera cannot replay", users, "door", remote, auth.ActionPlayback, "door", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := rtspHandler{access: tc.access}
			var err error
			switch tc.action {
			case auth.ActionPublish:
				err = tc.access.allow(tc.user, tc.peer.Addr(), tc.action, tc.camera)
				if tc.status != 0 {
					_, err = h.Announce(context.Background(), &rtsp.AnnounceRequest{Path: tc.camera, Peer: tc.peer, User: tc.user})
				}
			default:
				err = tc.access.allow(tc.user, tc.peer.Addr(), tc.action, tc.camera)
				if tc.status != 0 {
					_, err = h.Describe(context.Background(), &rtsp.DescribeRequest{Path: "archive/" + tc.camera, Peer: tc.peer, User: tc.user})
				}
			}
			got := 0
			if e, ok := err.(*base.Error); ok {
				got = e.Status
			} else if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tc.status {
				t.Fatalf("status %d (%v), want %d", got, err, tc.status)
			}
		})
	}
}
