package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/settings"
	"github.com/camvault/camvault/storage"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		modify func(c *fileConfig)
		err    string // substring; "" means valid
	}{
		{name: "defaults", modify: func(*fileConfig) {}},
		{name: "rtsps", modify: func(c *fileConfig) { c.TLS.Cert, c.TLS.Key, c.TLS.Only = "c.pem", "k.pem", true }},
		{name: "udp disabled", modify: func(c *fileConfig) { c.RTSP.UDPRTPAddress, c.RTSP.UDPRTCPAddress = "", "" }},
		{name: "udp disabled ignores rtcp", modify: func(c *fileConfig) { c.RTSP.UDPRTPAddress = "" }},
		{name: "ephemeral ports", modify: func(c *fileConfig) {
			c.RTSP.Address, c.HTTP.Address = "127.0.0.1:0", "127.0.0.1:0"
			c.RTSP.UDPRTPAddress, c.RTSP.UDPRTCPAddress = "127.0.0.1:0", "127.0.0.1:0"
		}},
		{name: "ipv6 address", modify: func(c *fileConfig) { c.RTSP.Address = "[::1]:554" }},
		{name: "hostname address", modify: func(c *fileConfig) { c.HTTP.Address = "localhost:8080" }},
		{name: "segment equals fragment", modify: func(c *fileConfig) {
			c.Recorder.SegmentDuration = c.Recorder.FragmentDuration
		}},
		{name: "valid camera names", modify: func(c *fileConfig) {
			c.Cameras = map[string]cameraConfig{"a": {}, "Cam_01.hd-main": {}, strings.Repeat("x", 64): {}, "archive2": {}}
		}},
		// URL paths are case-sensitive: only archive/{camera} is the playback prefix.
		{name: "camera name Archive", modify: func(c *fileConfig) { c.Cameras["Archive"] = cameraConfig{} }},

		{name: "empty data dir", modify: func(c *fileConfig) { c.DataDir = "" }, err: "data_dir: must be a directory path"},
		{name: "log format", modify: func(c *fileConfig) { c.Log.Format = "JSON" }, err: `log.format: must be one of text, json, got "JSON"`},
		{name: "log level", modify: func(c *fileConfig) { c.Log.Level = "trace" }, err: `log.level: must be one of debug, info, warn, error`},
		{name: "rtsp address without port", modify: func(c *fileConfig) { c.RTSP.Address = "0.0.0.0" }, err: "rtsp.address: must be a listen address"},
		{name: "rtsp address empty", modify: func(c *fileConfig) { c.RTSP.Address = "" }, err: "rtsp.address: must be a listen address"},
		{name: "port out of range", modify: func(c *fileConfig) { c.HTTP.Address = ":65536" }, err: "http.address: must be a listen address"},
		{name: "named port", modify: func(c *fileConfig) { c.HTTP.Address = ":http" }, err: "http.address: must be a listen address"},
		{name: "rtcp missing", modify: func(c *fileConfig) { c.RTSP.UDPRTCPAddress = "" }, err: "rtsp.udp_rtcp_address: must be set when rtsp.udp_rtp_address is"},
		{name: "odd rtp port", modify: func(c *fileConfig) { c.RTSP.UDPRTPAddress, c.RTSP.UDPRTCPAddress = ":8001", ":8002" }, err: "RTP port must be even, got 8001"},
		{name: "rtcp not next port", modify: func(c *fileConfig) { c.RTSP.UDPRTCPAddress = ":9001" }, err: "RTCP port must be the RTP port + 1 (8001), got 9001"},
		{name: "udp read buffer", modify: func(c *fileConfig) { c.RTSP.UDPReadBuffer = 2 << 30 }, err: "rtsp.udp_read_buffer: must be between 64KiB and 1GiB, got 2GiB"},
		{name: "zero session timeout", modify: func(c *fileConfig) { c.RTSP.SessionTimeout = 0 }, err: "rtsp.session_timeout: must be between 1s and 1d, got 0s"},
		{name: "negative write timeout", modify: func(c *fileConfig) { c.RTSP.WriteTimeout = -time.Second }, err: "rtsp.write_timeout: must be between 100ms and 1h, got -1s"},
		{name: "tiny handshake timeout", modify: func(c *fileConfig) { c.RTSP.HandshakeTimeout = 10 }, err: "rtsp.handshake_timeout"},
		{name: "idle timeout", modify: func(c *fileConfig) { c.RTSP.IdleTimeout = 2 * day }, err: "rtsp.idle_timeout"},
		{name: "media timeout", modify: func(c *fileConfig) { c.RTSP.MediaTimeout = 0 }, err: "rtsp.media_timeout"},
		{name: "read buffer", modify: func(c *fileConfig) { c.RTSP.ReadBufferSize = 100 }, err: "rtsp.read_buffer: must be between 68KiB and 16MiB, got 100B"},
		{name: "max connections", modify: func(c *fileConfig) { c.RTSP.MaxConnections = 0 }, err: "rtsp.max_connections: must be between 1 and 1048576, got 0"},
		{name: "max connections per address", modify: func(c *fileConfig) { c.RTSP.MaxConnectionsPerAddress = 0 }, err: "rtsp.max_connections_per_address: must be between 1 and 1048576, got 0"},
		{name: "tls cert without key", modify: func(c *fileConfig) { c.TLS.Cert = "/etc/camvault/cert.pem" }, err: "tls: cert and key go together"},
		{name: "tls only without cert", modify: func(c *fileConfig) { c.TLS.Only = true }, err: "tls.only: needs tls.cert and tls.key"},
		{name: "tls address", modify: func(c *fileConfig) { c.TLS.Address = "8322" }, err: "tls.address: must be a listen address"},
		{name: "sessions per connection", modify: func(c *fileConfig) { c.RTSP.MaxSessionsPerConnection = 5000 }, err: "rtsp.max_sessions_per_connection"},
		{name: "request line", modify: func(c *fileConfig) { c.RTSP.Limits.MaxRequestLine = 1 << 20 }, err: "rtsp.max_request_line"},
		{name: "url longer than request line", modify: func(c *fileConfig) { c.RTSP.Limits.MaxURL = 8 << 10 }, err: "rtsp.max_url: must be at most rtsp.max_request_line (4KiB), got 8KiB"},
		{name: "header line", modify: func(c *fileConfig) { c.RTSP.Limits.MaxHeaderLine = 10 }, err: "rtsp.max_header_line: must be between 256B and 64KiB"},
		{name: "header line over header bytes", modify: func(c *fileConfig) { c.RTSP.Limits.MaxHeaderLine = 32 << 10 }, err: "rtsp.max_header_line: must be at most rtsp.max_header_bytes (16KiB), got 32KiB"},
		{name: "header lines", modify: func(c *fileConfig) { c.RTSP.Limits.MaxHeaders = 0 }, err: "rtsp.max_header_lines"},
		{name: "header bytes", modify: func(c *fileConfig) { c.RTSP.Limits.MaxHeaderBytes = 2 << 20 }, err: "rtsp.max_header_bytes"},
		{name: "body", modify: func(c *fileConfig) { c.RTSP.Limits.MaxBody = 1 << 30 }, err: "rtsp.max_body"},
		{name: "packet", modify: func(c *fileConfig) { c.RTSP.MaxPacketSize = 64 << 10 }, err: "rtsp.max_packet: must be between 1KiB and 65535B, got 64KiB"},
		{name: "zero fragment", modify: func(c *fileConfig) { c.Recorder.FragmentDuration = 0 }, err: "recorder.fragment_duration: must be between 10ms and 1m, got 0s"},
		{name: "max fragment below fragment", modify: func(c *fileConfig) { c.Recorder.MaxFragmentDuration = 500 * time.Millisecond }, err: "recorder.max_fragment_duration: must be at least recorder.fragment_duration (1s), got 500ms"},
		{name: "max fragment too long", modify: func(c *fileConfig) { c.Recorder.MaxFragmentDuration = time.Hour }, err: "recorder.max_fragment_duration: must be between"},
		{name: "segment below fragment", modify: func(c *fileConfig) { c.Recorder.SegmentDuration = 100 * time.Millisecond }, err: "recorder.segment_duration: must be at least"},
		{name: "segment too long", modify: func(c *fileConfig) { c.Recorder.SegmentDuration = 30 * day }, err: "recorder.segment_duration: must be between 10ms and 1d, got 30d"},
		{name: "clock tolerance", modify: func(c *fileConfig) { c.Recorder.ClockTolerance = 0 }, err: "recorder.clock_tolerance"},
		{name: "storage retry", modify: func(c *fileConfig) { c.Recorder.StorageRetry = 2 * time.Hour }, err: "recorder.storage_retry: must be between 100ms and 1h, got 2h"},
		{name: "backpressure wait", modify: func(c *fileConfig) { c.Recorder.BackpressureWait = 2 * time.Minute }, err: "recorder.backpressure_wait: must be between 0s and 1m, got 2m"},
		{name: "backpressure wait past media timeout", modify: func(c *fileConfig) { c.Recorder.BackpressureWait = 10 * time.Second }, err: "recorder.backpressure_wait: must be below rtsp.media_timeout (10s), got 10s"},
		{name: "unit size", modify: func(c *fileConfig) { c.Recorder.MaxUnitBytes = 1 << 10 }, err: "recorder.max_unit_size: must be between 64KiB and 256MiB"},
		{name: "unit over fragment", modify: func(c *fileConfig) { c.Recorder.MaxUnitBytes = 128 << 20 }, err: "recorder.max_unit_size: must be at most recorder.max_fragment_size (16MiB), got 128MiB"},
		{name: "fragment size", modify: func(c *fileConfig) {
			c.Recorder.MaxFragmentBytes, c.Recorder.MaxRecordingBuffer, c.Recorder.MaxBuffer = 2<<30, 2<<30, 2<<30
		}, err: "recorder.max_fragment_size: must be between 64KiB and 1GiB, got 2GiB"},
		{name: "fragment over camera buffer", modify: func(c *fileConfig) { c.Recorder.MaxFragmentBytes = 64 << 20 }, err: "recorder.max_fragment_size: must be at most recorder.max_camera_buffer (32MiB), got 64MiB"},
		{name: "camera buffer over buffer", modify: func(c *fileConfig) { c.Recorder.MaxRecordingBuffer = 1 << 30 }, err: "recorder.max_camera_buffer: must be at most recorder.max_buffer (512MiB), got 1GiB"},
		{name: "buffer", modify: func(c *fileConfig) { c.Recorder.MaxBuffer = 2 << 40 }, err: "recorder.max_buffer: must be between 1MiB and 1TiB"},
		{name: "clock race limit", modify: func(c *fileConfig) { c.Recorder.ClockRaceLimit = 0 }, err: "recorder.clock_race_limit: must be between 1 and 1000, got 0"},
		{name: "clock race window", modify: func(c *fileConfig) { c.Recorder.ClockRaceWindow = 0 }, err: "recorder.clock_race_window: must be between 1s and 1d, got 0s"},
		{name: "sync", modify: func(c *fileConfig) { c.Storage.Sync = 7 }, err: `storage.sync: must be one of fragment, segment, none, got SyncPolicy(7)`},
		{name: "write queue", modify: func(c *fileConfig) { c.Storage.WriteQueue = -1 }, err: "storage.write_queue"},
		{name: "index timeout", modify: func(c *fileConfig) { c.Storage.IndexTimeout = 0 }, err: "storage.index_timeout: must be between 100ms and 1h, got 0s"},
		{name: "camera name too long", modify: func(c *fileConfig) { c.Cameras[strings.Repeat("x", 65)] = cameraConfig{} }, err: "invalid camera name"},
		{name: "camera name leading dot", modify: func(c *fileConfig) { c.Cameras[".hidden"] = cameraConfig{} }, err: `cameras..hidden: invalid camera name ".hidden"`},
		{name: "camera name dot dot", modify: func(c *fileConfig) { c.Cameras[".."] = cameraConfig{} }, err: "invalid camera name"},
		{name: "camera name slash", modify: func(c *fileConfig) { c.Cameras["a/b"] = cameraConfig{} }, err: "invalid camera name"},
		{name: "camera name empty", modify: func(c *fileConfig) { c.Cameras[""] = cameraConfig{} }, err: "invalid camera name"},
		{name: "camera name unicode", modify: func(c *fileConfig) { c.Cameras["café"] = cameraConfig{} }, err: "invalid camera name"},
		{name: "camera name archive", modify: func(c *fileConfig) { c.Cameras["archive"] = cameraConfig{} }, err: `"archive" is reserved`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := defaultConfig()
			tc.modify(c)
			err := c.validate()
			if (tc.err == "") != (err == nil) || !strings.Contains(fmt.Sprint(err), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if err == nil {
				return
			}
			if _, ok := errors.AsType[*settings.FieldError](err); !ok {
				t.Errorf("error %v does not wrap a *settings.FieldError", err)
			}
			if n := strings.Count(err.Error(), "\n"); n != 0 {
				t.Errorf("one change gave %d errors:\n%v", n+1, err)
			}
		})
	}
}

// TestCameraNamesAgreeWithStorage: the file accepts exactly the camera names that storage (and
// so a push) accepts; the reserved word is the archive URL prefix, case-sensitive as URLs are.
func TestCameraNamesAgreeWithStorage(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"archive", "Archive", "ARCHIVE", "archive2", "a", "front door", ".x", "x.", strings.Repeat("x", 65)} {
		c := defaultConfig()
		c.Cameras[name] = cameraConfig{}
		fileErr, storageErr := c.validate(), storage.ValidCamera(name)
		if (fileErr == nil) != (storageErr == nil) {
			t.Errorf("camera %q: config says %v, storage says %v", name, fileErr, storageErr)
		}
	}
}

// day is a span of 24 hours.
const day = 24 * time.Hour
