package main

import (
	"context"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/rtsp"
)

// rtspHandler routes RTSP presentations: archive paths to playback,
// everything else to the push ingest.
type rtspHandler struct {
	push *ingest.Push
	play *playback.Server
	// access authenticates and authorizes requests (users, rights,
	// failure limits, Digest). Built from the config by runServe; not
	// consulted yet.
	access *rtspAuth
}

func (h rtspHandler) Announce(ctx context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	return h.push.Announce(ctx, req)
}

func (h rtspHandler) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	if playback.IsArchivePath(req.Path) {
		return h.play.Describe(ctx, req)
	}
	return h.push.Describe(ctx, req)
}
