// Package ingest holds camvault's live media sources. Push is the handler
// behind rtsp.Server for publishers (ANNOUNCE/SETUP/RECORD): it validates the
// camera name and the announced SDP, makes sure a camera has one publisher
// at a time, and hands packets to a Sink (the recorder).
//
// Schedule says when a pulled camera records: always, or in windows that
// cron rules (robfig/cron/v3, with CRON_TZ= zones) open for a duration.
// Overlapping or touching windows merge; a window already open at start-up
// counts; Schedule.Run turns the windows into open and close calls on the
// clock. Durations are real elapsed time across daylight-saving changes; see
// Schedule for the rules on skipped and repeated wall-clock times.
//
// Pull plays cameras over RTSP (rtsp.Dial) while their schedules are open
// and records them through the same Sink. Each camera has one goroutine,
// owned and waited for by Pull: in a window it connects, opens the
// recording and reads media; after a failure (the camera, the network or
// the sink, say because a publisher holds the camera) it backs off with
// full jitter from BackoffMin doubling to BackoffMax, starting again after
// a session that recorded for a minute. When the window closes, the camera
// is removed by Update or Run ends, the session is torn down (TEARDOWN) and
// the recording sealed. Update adds, removes and restarts only the cameras
// that changed. A camera that refuses the configured transport with 461 is
// pulled over the other one, and keeps it across reconnects until Update
// changes the camera. States and Camera report snapshots (PullState, last
// error without credentials, next retry, connects, packets, bytes), and
// every state change is one log line ("camera state").
//
// ingest knows nothing of files: it sees the recorder only through Sink.
package ingest
