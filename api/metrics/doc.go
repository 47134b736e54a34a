// Package metrics exposes camvault's Prometheus metrics: a prometheus.Registry with the Go
// and process collectors, the counters other packages keep (read at scrape time from their
// snapshots) and the histograms and counters fed by hooks (storage writes, HTTP requests,
// PLAY starts, authentication failures).
//
// The per-camera series are most of a scrape (about 50 lines a camera). Handler writes them
// in the text format itself, straight from the snapshots into a buffer kept for the next
// scrape, and the other collectors (registered a second time in a registry without the
// cameras) through expfmt; tests hold that text byte for byte to what expfmt writes of the
// full registry. A scraper that asks for protobuf or filters with name[] gets the full
// registry through promhttp.
//
// It reads storage, the recorder and ingest through their snapshot methods
// (storage.Store.AllCounters, recorder.Recorder.CameraStats, ingest.Pull.States), none of
// which waits for a recording or the disk, so a scrape costs the same whatever the cameras
// do. It never knows RTSP or playback: cmd/camvault adapts what they report into RTSPStats
// and calls ObservePlayStart and AuthFailure.
//
// Series. Per camera, with the label camera only (the deletions also by reason, as storage
// names them: max_age, max_bytes, min_free, reclaim); every camera that the recorder,
// storage or the pulls know has every per-camera series, zero until something happens:
//
//	camvault_camera_received_packets_total        RTP packets received (all tracks)
//	camvault_camera_received_bytes_total          their payload bytes
//	camvault_camera_lost_packets_total            sequence numbers never received
//	camvault_camera_late_packets_total            packets dropped as late, duplicate or far out of sequence
//	camvault_camera_dropped_packets_total         other packets dropped (malformed, foreign SSRC, ...)
//	camvault_camera_recorded_frames_total         video frames (audio-only: audio units) handed to storage
//	camvault_camera_fragments_written_total       fragments storage wrote
//	camvault_camera_fragments_dropped_total       fragments lost: write queue full, memory budget, storage failed
//	camvault_camera_segments_started_total        segments the recorder started
//	camvault_camera_segments_sealed_total         segments storage sealed
//	camvault_camera_segments_deleted_total        segments retention deleted, by reason
//	camvault_camera_deleted_bytes_total           their bytes, by reason
//	camvault_camera_written_bytes_total           segment bytes storage wrote
//	camvault_camera_write_errors_total            failed file operations of the writers
//	camvault_camera_crash_lost_fragments_total    torn fragments cut off by start-up repair
//	camvault_camera_crash_lost_seconds_total      estimated time those cost: last whole fragment's end to the file's mtime
//	camvault_camera_write_queue_bytes             media held in memory: open fragment and fragments queued to storage
//	camvault_camera_write_queue_depth             the camera's operations waiting in storage's write queue now
//	camvault_camera_recording                     1 while a recording is open, else 0
//	camvault_camera_state                         see api.CameraState: 0 idle, 1 connecting, 2 backing_off, 3 recording, 4 storage_error, 5 live
//	camvault_camera_last_fragment_timestamp_seconds  wall-clock end of the last fragment (absent before the first)
//	camvault_camera_write_duration_seconds        histogram: write of one fragment (from StorageObserver)
//	camvault_camera_fsync_duration_seconds        histogram: its fsync, when storage syncs per fragment
//
// Process-wide:
//
//	camvault_disk_free_bytes, camvault_disk_size_bytes   the data directory's file system (Sources.DiskSpace)
//	camvault_storage_write_rate_bytes_per_second         the current write rate (Sources.WriteRate, else the cameras' bitrates)
//	camvault_disk_full_forecast_seconds                  free bytes / write rate; absent while the rate is zero
//	camvault_index_size_bytes                            bytes of the bbolt index (Sources.IndexSize)
//	camvault_rtsp_connections{kind}, camvault_rtsp_sessions{kind}   open now (Sources.RTSP)
//	camvault_rtsp_slow_clients_total, camvault_rtsp_udp_drops_total
//	camvault_playback_play_start_seconds                 histogram: PLAY answered to first RTP packet sent
//	camvault_auth_failures_total{protocol}               rtsp, http (anything else counts as other)
//	camvault_http_requests_total{route,code}, camvault_http_request_duration_seconds{route}
//	camvault_http_live_views                             the web page's live views (WebSockets) open now
//	camvault_http_live_views_ended_total{reason}         client, camera, slow, shutdown, error, moved, owner
//	camvault_metrics_source_errors_total{source}         a source that failed during a scrape: disk, index
//	camvault_peer_list_failures_total, camvault_peer_read_failures_total   listings and reads of another
//	                                                     node's segments that failed (Sources.Peer; absent without)
//
// No series has a per-connection or per-request label; the HTTP route is the mux pattern.
// A camera that every source has forgotten leaves no series behind: the histograms drop it
// at the next scrape.
package metrics
