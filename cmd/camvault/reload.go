package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/camvault/camvault/ingest"
	"github.com/camvault/camvault/storage"
)

// reloadTargets are what SIGHUP updates.
type reloadTargets struct {
	pull  *ingest.Pull
	store *storage.Store
	certs *certReloader // nil without RTSPS
}

// reloadOnSIGHUP re-reads the config file on SIGHUP and applies its
// cameras and retention: added, removed and changed pulled cameras take
// effect, the others are untouched; retention rules and holds apply from the
// next pass. The RTSPS certificate and key files are read again; new TLS
// handshakes use them and running sessions stay. An invalid file is refused
// with an error log line and the running configuration stays. Other
// settings (addresses, limits) need a restart. stop ends the watcher and
// waits for it.
func reloadOnSIGHUP(ctx context.Context, path string, to reloadTargets, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				reloadCerts(to.certs, log)
				reloadCameras(path, to.pull, to.store, log)
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		cancel()
		<-done
	}
}

func reloadCameras(path string, pull *ingest.Pull, store *storage.Store, log *slog.Logger) {
	if path == "" {
		log.Warn("SIGHUP ignored: camvault runs without a config file")
		return
	}
	cfg, err := loadConfig(path)
	if err != nil {
		log.Error("config reload refused; the running configuration stays", "err", err)
		return
	}
	cams := cfg.pullCameras()
	pull.Update(cams)
	store.SetRetention(cfg.retention())
	log.Info("config reloaded; cameras and retention applied (other settings need a restart)", "pulled", len(cams))
}

func reloadCerts(certs *certReloader, log *slog.Logger) {
	if certs == nil {
		return
	}
	if err := certs.reload(); err != nil {
		log.Error("tls certificate reload refused; the running certificate stays", "err", err)
		return
	}
	log.Info("tls certificate reloaded", "cert", certs.certFile)
}
