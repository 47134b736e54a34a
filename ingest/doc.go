// Package ingest holds camvault's live media sources. Push is the handler
// behind rtsp.Server for publishers (ANNOUNCE/SETUP/RECORD): it validates the
// camera name and the announced SDP, makes sure a camera has one publisher
// at a time, and hands packets to a Sink (the recorder).
//
// ingest knows nothing of files: it sees the recorder only through Sink.
package ingest
