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

	"github.com/camvault/camvault/api"
	"github.com/camvault/camvault/api/export"
	"github.com/camvault/camvault/api/metrics"
	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/live"
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
	var opts serveOptions
	var flags *flag.FlagSet
	cfg, err := parseConfigFlags("serve", args, stderr, func(fs *flag.FlagSet) {
		flags = fs
		fs.StringVar(&opts.pprofAddr, "pprof", "", "serve net/http/pprof on this `address` (loopback only; off by default)")
	})
	if err != nil {
		return err
	}
	opts.configPath = flags.Lookup("config").Value.String()
	log := newLogger(cfg.Log, stderr)
	l := newLifecycle(ctx, log)
	defer func() { err = errors.Join(err, l.stop()) }()
	srv, err := startParts(l, cfg, opts, log)
	if err != nil {
		return err
	}
	rtpAddr, rtcpAddr := srv.rtsp.UDPAddrs()
	log.Info("camvault serving", "version", versionString(), "rtsp", fmt.Sprint(srv.rtsp.Addr()),
		"rtsps", fmt.Sprint(srv.rtsp.TLSAddr()), "udp_rtp", fmt.Sprint(rtpAddr), "udp_rtcp", fmt.Sprint(rtcpAddr),
		"http", fmt.Sprint(srv.http.Addr()), "https", fmt.Sprint(srv.http.TLSAddr()), "data", cfg.DataDir)
	notify("READY=1")
	var wd *watchdog
	if every := watchdogInterval(); every > 0 {
		log.Info("systemd watchdog", "keepalive_every", every)
		wd = newWatchdog(every, srv.http.Ready, log)
		l.run("watchdog", wd.run)
	}
	err = l.wait()
	if wd != nil {
		wd.close()
	}
	notify("STOPPING=1")
	log.Info("shutting down")
	return err
}

// serveOptions are the serve's flags beyond the config file.
type serveOptions struct {
	pprofAddr  string // -pprof; "" is off
	configPath string // re-read on SIGHUP; "" without a config file
}

// servers are the listening servers of a serve, for their addresses.
type servers struct {
	rtsp *rtsp.Server
	http *api.Server
}

// startParts starts the parts of a serve in dependency order, each recorded on l: pprof (first,
// so a busy address fails before anything is touched), storage and its retention loop, the
// recorder, the RTSP server's sockets and its handlers, the pulled cameras, the HTTP server's
// sockets, the SIGHUP reload, and last the accept loops of RTSP and HTTP, so no client is served
// by a serve that then fails to start.
func startParts(l *lifecycle, cfg *fileConfig, opts serveOptions, log *slog.Logger) (*servers, error) {
	if opts.pprofAddr != "" {
		stop, err := servePprof(l.context(), opts.pprofAddr, log)
		if err != nil {
			return nil, err
		}
		l.addFunc("pprof", stop)
	}
	access, err := newRTSPAuth(cfg, log)
	if err != nil {
		return nil, err
	}
	if !access.authority.HasUsers() && cfg.Anonymous == nil {
		log.Info("no users configured: only clients on loopback may publish, watch or replay; " +
			"add users (camvault passwd -user NAME) or an anonymous entry to serve others")
	}
	l.run("auth", access.flushLoop(cfg.Auth.LogInterval))
	p, err := startRecording(l, cfg, log)
	if err != nil {
		return nil, err
	}
	srv, certs, err := startRTSP(l, cfg, access, p, log)
	if err != nil {
		return nil, err
	}
	web, err := startHTTP(l, cfg, access, p, certs, log)
	if err != nil {
		return nil, err
	}
	l.addFunc("reload", reloadOnSIGHUP(l.context(), opts.configPath, reloadTargets{pull: p.pull, store: p.store, certs: certs}, log))
	l.run("rtsp", srv.Run)
	l.run("http", func(ctx context.Context) error {
		select { // the tunnel and the WebSocket hand connections to the RTSP server
		case <-srv.Serving():
		case <-ctx.Done():
			return nil
		}
		return web.Run(ctx)
	})
	return &servers{rtsp: srv, http: web}, nil
}

// startRecording opens the store (with the metrics' storage observer) and starts its retention
// loop, then the recorder, and builds the pulls (not run yet) and the metrics over them. The
// RTSP server of the returned parts is set by startRTSP; the metrics read it through p at each
// scrape, which the HTTP server started after it serves.
func startRecording(l *lifecycle, cfg *fileConfig, log *slog.Logger) (*apiParts, error) {
	storeObs := metrics.NewStorageObserver()
	scfg := cfg.storageConfig(log)
	scfg.Observer = storeObs
	store, err := storage.Open(scfg)
	if err != nil {
		return nil, err
	}
	l.add("storage", store.Close)
	store.SetRetention(cfg.retention())
	l.run("retention", retentionLoop(store, cfg.Retention.Interval, log))
	cp, err := newClusterParts(cfg, log)
	if err != nil {
		return nil, err
	}
	rcfg := cfg.recorderConfig(log)
	if cp != nil {
		rcfg.Fence = cp.fence
	}
	rec, err := recorder.New(rcfg, store)
	if err != nil {
		return nil, err
	}
	l.add("recorder", func() error { return closeRecorder(rec.Close, shutdownTimeout, log) })
	var pull *ingest.Pull
	lc := cfg.liveConfig(log)
	lc.OnDemand = func(camera string) (func(), bool) { return pull.Watch(camera) }
	if cp != nil {
		lc.Moved = cp.moved
	}
	relay, err := live.New(lc)
	if err != nil {
		return nil, err
	}
	pull, err = ingest.NewPull(cfg.pullConfig(sink{rec, cp}, relay, log))
	if err != nil {
		return nil, err
	}
	tiered, err := startTiering(l, cfg, store, cp, log)
	if err != nil {
		return nil, err
	}
	if cp != nil {
		cp.pull = pull
		l.add("cluster client", cp.node.Close)
		l.runOwn("cluster", cp.node.Run)
		l.run("cluster pulls", cp.updateLoop)
	}
	p := &apiParts{store: store, rec: rec, pull: pull, live: relay, cluster: cp, tier: tiered}
	p.metrics, err = metrics.New(metrics.Sources{Store: store, Recorder: rec, Pull: pull,
		RTSP: rtspMetrics(func() *rtsp.Server { return p.rtsp }, pull), DiskSpace: store.DiskSpace,
		IndexSize: store.IndexSize, WriteRate: store.WriteRate, StorageObserver: storeObs, Peer: cp.peerStats(),
		Tier: tierMetrics(tiered)})
	return p, err
}

// startRTSP builds the push and playback handlers and the RTSP server, binds its sockets, sets
// p.rtsp and starts the pulls. The server's accept loop is started last, by startParts.
func startRTSP(l *lifecycle, cfg *fileConfig, access *rtspAuth, p *apiParts, log *slog.Logger) (*rtsp.Server, *certReloader, error) {
	push, err := ingest.NewPush(cfg.pushConfig(sink{p.rec, p.cluster}, p.live, log))
	if err != nil {
		return nil, nil, err
	}
	pc := cfg.playbackConfig(p.store, log)
	if p.tier != nil || p.cluster != nil {
		// Archive windows include what any node uploaded and what the camera's owner has not
		// uploaded yet.
		r := archiveRemote{tier: p.tier}
		if p.cluster != nil {
			r.peers = p.cluster.peers
		}
		pc.Remote = r
	}
	play, err := playback.New(pc)
	if err != nil {
		return nil, nil, err
	}
	certs, err := newCertReloader(cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		return nil, nil, err
	}
	mets := p.metrics
	rcfg := cfg.rtspServerConfig(rtspHandler{push: push, play: play, live: p.live, access: access, cluster: p.cluster}, access.countedRTSPAccess(mets.AuthFailure), certs.config(), log)
	rcfg.OnPlayStart = func(_ string, d time.Duration) { mets.ObservePlayStart(d) }
	srv, err := rtsp.NewServer(rcfg)
	if err != nil {
		return nil, nil, err
	}
	p.rtsp = srv
	l.add("rtsp sockets", srv.Close)
	if p.cluster != nil {
		p.pull.Update(p.cluster.pullCameras()) // the owned ones follow as the cluster assigns them
	} else {
		p.pull.Update(cfg.pullCameras())
	}
	l.run("pull", p.pull.Run)
	return srv, certs, nil
}

// startHTTP builds the exporter and the HTTP server over p and binds its sockets; its accept
// loop is started last, by startParts.
func startHTTP(l *lifecycle, cfg *fileConfig, access *rtspAuth, p *apiParts, certs *certReloader, log *slog.Logger) (*api.Server, error) {
	exportOpts := cfg.Export
	exportOpts.Logger = log
	var err error
	if p.exporter, err = export.New(p.store, exportOpts); err != nil {
		return nil, err
	}
	web, err := newAPIServer(cfg, access, *p, certs.config(), log)
	if err != nil {
		return nil, err
	}
	if err := web.Listen(); err != nil {
		return nil, err
	}
	l.add("http sockets", web.Close)
	return web, nil
}

// closeRecorder seals the open segments, waiting at most timeout. A recorder that has not closed
// by then is an error: the serve exits non-zero, and the storage closed after it may cut the
// segments it still writes (they are repaired at the next start).
func closeRecorder(closeFn func() error, timeout time.Duration, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- closeFn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		log.Error("segments not sealed in time; closing storage under the live recorder, "+
			"the open segments are repaired at next start", "timeout", timeout)
		return fmt.Errorf("recorder did not close within %v", timeout)
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

// sink adapts the recorder to ingest.Sink; in a cluster, a pushed camera's recording owns the
// camera while it runs.
type sink struct {
	r       *recorder.Recorder
	cluster *clusterParts // nil without a cluster
}

func (s sink) ValidCamera(name string) error { return s.r.ValidCamera(name) }

// Open lets a recording fed over TCP hold its source back while storage is
// behind (recorder.OpenOptions.Backpressure).
func (s sink) Open(camera string, tracks []*media.Track, feed ingest.Feed) (ingest.Writer, error) {
	if s.cluster != nil {
		if err := s.cluster.claimPush(camera); err != nil {
			return nil, fmt.Errorf("camera ownership: %w", err)
		}
	}
	rec, err := s.r.Open(camera, tracks, recorder.OpenOptions{Backpressure: feed.TCP})
	if err != nil {
		if s.cluster != nil {
			s.cluster.releasePush(camera)
		}
		return nil, err
	}
	if s.cluster != nil {
		return ownedRecording{rec, s.cluster, camera}, nil
	}
	return rec, nil
}

// ownedRecording gives a pushed camera up when its recording ends.
type ownedRecording struct {
	*recorder.Recording
	cluster *clusterParts
	camera  string
}

func (o ownedRecording) Close() {
	o.Recording.Close()
	o.cluster.releasePush(o.camera)
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
		cams = append(cams, ingest.PullCamera{Name: name, URL: cam.URL, Transport: transport, Schedule: cam.Schedule.schedule(),
			OnDemand: cam.OnDemand})
	}
	return cams
}
