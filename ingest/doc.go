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
// ingest knows nothing of files: it sees the recorder only through Sink.
package ingest
