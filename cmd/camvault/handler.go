package main

import (
	"context"
	"strings"

	"github.com/camvault/camvault/auth"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/storage"
)

// rtspHandler routes RTSP presentations: archive paths to playback, ANNOUNCE
// to the push ingest, DESCRIBE of a camera to the live relay.
type rtspHandler struct {
	push *ingest.Push
	play *playback.Server
	live *live.Relay
	// access decides who may publish, watch and replay which camera.
	access *rtspAuth
	// cluster sends clients of cameras that another node owns there; nil without a cluster.
	cluster *clusterParts
}

// Announce needs the publish right on the camera. Rights are checked before
// anything else, so that a refusal never tells whether a camera exists.
func (h rtspHandler) Announce(ctx context.Context, req *rtsp.AnnounceRequest) (rtsp.Publication, error) {
	if err := h.access.allow(req.User, req.Peer.Addr(), auth.ActionPublish, req.Path); err != nil {
		return nil, err
	}
	if h.cluster != nil {
		if err := h.cluster.pushRedirect(strings.TrimSuffix(req.Path, "/"), req.Peer.Addr()); err != nil {
			return nil, err
		}
	}
	return h.push.Announce(ctx, req)
}

// archivePrefix starts the RTSP path of a camera's archive: "archive/{camera}".
const archivePrefix = storage.ReservedCamera + "/"

// Describe needs the playback right on an archive's camera, the read right
// on a live one.
func (h rtspHandler) Describe(ctx context.Context, req *rtsp.DescribeRequest) (rtsp.Presentation, error) {
	if camera, ok := strings.CutPrefix(req.Path, archivePrefix); ok {
		if err := h.access.allow(req.User, req.Peer.Addr(), auth.ActionPlayback, camera); err != nil {
			return nil, err
		}
		return h.play.Describe(ctx, req)
	}
	if err := h.access.allow(req.User, req.Peer.Addr(), auth.ActionRead, req.Path); err != nil {
		return nil, err
	}
	if playback.IsArchivePath(req.Path) {
		return h.play.Describe(ctx, req)
	}
	if h.cluster != nil {
		if err := h.cluster.liveRedirect(req.Path); err != nil {
			return nil, err
		}
	}
	return h.live.Describe(ctx, req)
}
