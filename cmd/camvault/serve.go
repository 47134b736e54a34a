package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/playback"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/rtsp"
	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/storage"
)

// shutdownTimeout bounds the wait for segments to be sealed at exit.
const shutdownTimeout = 30 * time.Second

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	var pprofAddr string
	var flags *flag.FlagSet
	cfg, err := parseConfigFlags("serve", args, stderr, func(fs *flag.FlagSet) {
		flags = fs
		fs.StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this `address` (loopback only; off by default)")
	})
	if err != nil {
		return err
	}
	configPath := flags.Lookup("config").Value.String()
	log := newLogger(cfg.Log, stderr)
	if pprofAddr != "" {
		stop, err := servePprof(ctx, pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	access, err := newRTSPAuth(cfg, log)
	if err != nil {
		return err
	}
	if !access.authority.HasUsers() && cfg.Anonymous == nil {
		log.Info("no users configured: only clients on loopback may publish, watch or replay; " +
			"add users (camvault passwd -user NAME) or an anonymous entry to serve others")
	}
	stopAuth := access.run(ctx, time.Duration(cfg.Auth.FailureLogInterval))
	defer stopAuth()
	store, err := storage.Open(cfg.storageConfig(log))
	if err != nil {
		return err
	}
	store.SetRetention(cfg.retention())
	stopRetention := runRetentionLoop(ctx, store, time.Duration(cfg.Retention.Interval), log)
	// closeStore ends the retention loop first: a pass must not outlive the store.
	closeStore := func() error {
		stopRetention()
		return store.Close()
	}
	rec, err := recorder.New(cfg.recorderConfig(log), store)
	if err != nil {
		closeStore()
		return err
	}
	push, err := ingest.NewPush(cfg.pushConfig(sink{rec}, log))
	if err != nil {
		closeStore()
		return err
	}
	play, err := playback.New(cfg.playbackConfig(store, log))
	if err != nil {
		closeStore()
		return err
	}
	certs, err := newCertReloader(cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		closeStore()
		return err
	}
	srv, err := rtsp.NewServer(cfg.rtspServerConfig(rtspHandler{push: push, play: play, access: access}, access.rtspAccess(), certs.config(), log))
	if err != nil {
		closeStore()
		return err
	}
	pull, err := ingest.NewPull(cfg.pullConfig(sink{rec}, log))
	if err != nil {
		closeStore()
		return err
	}
	pull.Update(cfg.pullCameras())
	pullDone := make(chan error, 1)
	go func() { pullDone <- pull.Run(ctx) }()
	stopReload := reloadOnSIGHUP(ctx, configPath, reloadTargets{pull: pull, store: store, certs: certs}, log)
	rtpAddr, rtcpAddr := srv.UDPAddrs()
	log.Info("camvault serving", "version", versionString(), "rtsp", srv.Addr().String(),
		"rtsps", fmt.Sprint(srv.TLSAddr()), "udp_rtp", fmt.Sprint(rtpAddr), "udp_rtcp", fmt.Sprint(rtcpAddr), "data", cfg.DataDir)
	notify("READY=1")
	err = srv.Run(ctx)
	notify("STOPPING=1")
	log.Info("shutting down")
	stopReload()
	if perr := <-pullDone; err == nil {
		err = perr // pulled cameras have torn down and sealed
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Close()
	}()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		log.Error("segments not sealed in time; they will be repaired at next start")
	}
	if cerr := closeStore(); err == nil {
		err = cerr
	}
	return err
}

func runReindex(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfigFlags("reindex", args, stderr, nil)
	if err != nil {
		return err
	}
	rep, err := storage.Reindex(cfg.storageConfig(newLogger(cfg.Log, stderr)))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed %d segments, %d fragments; %d torn tails cut\n", rep.Segments, rep.Fragments, rep.Torn)
	for _, s := range rep.Skipped {
		fmt.Fprintln(stdout, "skipped:", s)
	}
	return nil
}

// sink adapts the recorder to ingest.Sink.
type sink struct{ r *recorder.Recorder }

func (s sink) ValidCamera(name string) error { return s.r.ValidCamera(name) }

// Open lets a recording fed over TCP hold its source back while storage is
// behind (recorder.OpenOptions.Backpressure).
func (s sink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	rec, err := s.r.Open(camera, tracks, recorder.OpenOptions{Backpressure: feed.TCP})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (c *fileConfig) storageConfig(log *slog.Logger) storage.Config {
	sync, _ := storage.ParseSyncPolicy(c.Storage.Sync) // validated with the file
	return storage.Config{Dir: c.DataDir, Sync: sync, WriteQueue: c.Storage.WriteQueue,
		IndexTimeout: time.Duration(c.Storage.IndexTimeout), ReadFiles: c.Storage.ReadFiles,
		ReadIdle: time.Duration(c.Storage.ReadIdle), IndexReserve: int64(c.Storage.IndexReserve),
		ReclaimMin: int64(c.Storage.ReclaimMin), ReportPaths: c.Storage.ReportPaths, Logger: log}
}

func (c *fileConfig) playbackConfig(store *storage.Store, log *slog.Logger) playback.Config {
	p := c.Playback
	return playback.Config{Store: store, MaxSessions: p.MaxSessions,
		SenderReportInterval: time.Duration(p.SenderReportInterval), MaxPayload: int(p.MaxPayload), Logger: log}
}

func (c *fileConfig) recorderConfig(log *slog.Logger) recorder.Config {
	r := c.Recorder
	wait := time.Duration(r.BackpressureWait)
	if wait == 0 {
		wait = -1 // the file's 0s never waits; recorder's zero value means its default
	}
	return recorder.Config{FragmentDuration: time.Duration(r.FragmentDuration),
		MaxFragmentDuration: time.Duration(r.MaxFragmentDuration), SegmentDuration: time.Duration(r.SegmentDuration),
		ClockTolerance: time.Duration(r.ClockTolerance), ClockRaceLimit: r.ClockRaceLimit,
		ClockRaceWindow: time.Duration(r.ClockRaceWindow), MaxFragmentBytes: int(r.MaxFragmentSize),
		MaxRecordingBuffer: int(r.MaxCameraBuffer), MaxBuffer: int64(r.MaxBuffer),
		MaxUnitBytes: int(r.MaxUnitSize), StorageRetry: time.Duration(r.StorageRetry), BackpressureWait: wait,
		Logger: log}
}

func (c *fileConfig) pushConfig(s ingest.Sink, log *slog.Logger) ingest.PushConfig {
	pc := ingest.PushConfig{Sink: s, TakeOver: c.Ingest.Takeover, AllowUnknown: c.Ingest.AllowUnknownCameras, Logger: log,
		SDP: media.SDPLimits{MaxMedia: c.Ingest.MaxSDPMedia, MaxAttrBytes: int(c.Ingest.MaxSDPLine)}}
	for name, cam := range c.Cameras {
		pc.Cameras = append(pc.Cameras, name)
		if cam.URL != "" {
			pc.Pulled = append(pc.Pulled, name)
		}
	}
	return pc
}

// pullCameras lists the cameras with a url, in name order.
func (c *fileConfig) pullCameras() []ingest.PullCamera {
	var cams []ingest.PullCamera
	for _, name := range slices.Sorted(maps.Keys(c.Cameras)) {
		cam := c.Cameras[name]
		if cam.URL == "" {
			continue
		}
		transport := cam.Transport
		if transport == "" {
			transport = "tcp"
		}
		cams = append(cams, ingest.PullCamera{Name: name, URL: cam.URL, Transport: transport, Schedule: cam.Schedule.schedule()})
	}
	return cams
}

func (c *fileConfig) rtspLimits() base.Limits {
	r := c.RTSP
	return base.Limits{MaxRequestLine: int(r.MaxRequestLine), MaxURL: int(r.MaxURL),
		MaxHeaderLine: int(r.MaxHeaderLine), MaxHeaders: r.MaxHeaderLines,
		MaxHeaderBytes: int(r.MaxHeaderBytes), MaxBody: int(r.MaxBody)}
}

func (c *fileConfig) rtspServerConfig(h rtsp.Handler, access *rtsp.Access, tlsConf *tls.Config, log *slog.Logger) rtsp.Config {
	r := c.RTSP
	return rtsp.Config{
		Address: r.Address, UDPRTPAddress: r.UDPRTPAddress, UDPRTCPAddress: r.UDPRTCPAddress,
		TLS: tlsConf, TLSAddress: c.TLS.Address, TLSOnly: c.TLS.Only,
		DisableUDP: r.UDPRTPAddress == "", UDPReadBuffer: int(r.UDPReadBuffer),
		SessionTimeout: time.Duration(r.SessionTimeout), MediaTimeout: time.Duration(r.MediaTimeout),
		HandshakeTimeout: time.Duration(r.HandshakeTimeout), IdleTimeout: time.Duration(r.IdleTimeout),
		WriteTimeout: time.Duration(r.WriteTimeout), MaxConnections: r.MaxConnections,
		MaxConnectionsPerAddress: r.MaxConnectionsPerAddress,
		MaxSessionsPerConnection: r.MaxSessionsPerConnection, ReadBufferSize: int(r.ReadBuffer),
		MaxPacketSize: int(r.MaxPacket), MediaQueueSize: r.MediaQueue,
		UDPTeardownLinger: time.Duration(r.UDPTeardownLinger),
		Limits:            c.rtspLimits(),
		Handler:           h, Access: access, Logger: log,
	}
}
