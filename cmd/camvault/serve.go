package main

import (
	"context"
	"errors"
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
	"github.com/camvault/camvault/storage"
)

// shutdownTimeout bounds the wait for segments to be sealed at exit.
const shutdownTimeout = 30 * time.Second

// runServe is `camvault serve`: it starts the parts in order on a lifecycle, which stops them
// in reverse order on signal, when one fails while serving, or when a later one fails to start.
func runServe(ctx context.Context, args []string, stderr io.Writer) (err error) {
	var pprofAddr string
	var flags *flag.FlagSet
	cfg, err := parseConfigFlags("serve", args, stderr, func(fs *flag.FlagSet) {
		flags = fs
		fs.StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this `address` (loopback only; off by default)")
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	l := newLifecycle(ctx, log)
	defer func() { err = errors.Join(err, l.stop()) }()
	p, err := startParts(l, cfg, log)
	if err != nil {
		return err
	}
	if pprofAddr != "" {
		stop, err := servePprof(l.context(), pprofAddr, log)
		if err != nil {
			return err
		}
		l.addFunc("pprof", stop)
	}
	l.addFunc("reload", reloadOnSIGHUP(l.context(), flags.Lookup("config").Value.String(), p.reload, log))
	rtpAddr, rtcpAddr := p.rtsp.UDPAddrs()
	log.Info("camvault serving", "version", versionString(), "rtsp", p.rtsp.Addr().String(),
		"rtsps", fmt.Sprint(p.rtsp.TLSAddr()), "udp_rtp", fmt.Sprint(rtpAddr), "udp_rtcp", fmt.Sprint(rtcpAddr), "data", cfg.DataDir)
	notify("READY=1")
	err = l.wait()
	notify("STOPPING=1")
	log.Info("shutting down")
	return err
}

// serveParts are the started parts that runServe refers to after start.
type serveParts struct {
	rtsp   *rtsp.Server
	reload reloadTargets
}

// startParts starts the parts of a serve in dependency order, each recorded on l: storage and
// its retention loop, the recorder, the RTSP server and its handlers, the pulled cameras.
func startParts(l *lifecycle, cfg *fileConfig, log *slog.Logger) (*serveParts, error) {
	access, err := newRTSPAuth(cfg, log)
	if err != nil {
		return nil, err
	}
	if !access.authority.HasUsers() && cfg.Anonymous == nil {
		log.Info("no users configured: only clients on loopback may publish, watch or replay; " +
			"add users (camvault passwd -user NAME) or an anonymous entry to serve others")
	}
	l.addFunc("auth", access.run(l.context(), cfg.Auth.LogInterval))
	store, err := storage.Open(cfg.storageConfig(log))
	if err != nil {
		return nil, err
	}
	l.add("storage", store.Close)
	store.SetRetention(cfg.retention())
	l.addFunc("retention", runRetentionLoop(l.context(), store, cfg.Retention.Interval, log))
	rec, err := recorder.New(cfg.recorderConfig(log), store)
	if err != nil {
		return nil, err
	}
	l.add("recorder", func() error { return closeRecorder(rec, log) })
	push, err := ingest.NewPush(cfg.pushConfig(sink{rec}, log))
	if err != nil {
		return nil, err
	}
	play, err := playback.New(cfg.playbackConfig(store, log))
	if err != nil {
		return nil, err
	}
	certs, err := newCertReloader(cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		return nil, err
	}
	srv, err := rtsp.NewServer(cfg.rtspServerConfig(rtspHandler{push: push, play: play, access: access}, access.rtspAccess(), certs.config(), log))
	if err != nil {
		return nil, err
	}
	l.serve("rtsp", srv)
	pull, err := ingest.NewPull(cfg.pullConfig(sink{rec}, log))
	if err != nil {
		return nil, err
	}
	pull.Update(cfg.pullCameras())
	l.run("pull", pull.Run)
	return &serveParts{rtsp: srv, reload: reloadTargets{pull: pull, store: store, certs: certs}}, nil
}

// closeRecorder seals the open segments, waiting at most shutdownTimeout: a segment left open
// is repaired at the next start.
func closeRecorder(rec *recorder.Recorder, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- rec.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(shutdownTimeout):
		log.Error("segments not sealed in time; they will be repaired at next start")
		return nil
	}
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
