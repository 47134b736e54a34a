// Package headers parses and writes the typed RTSP headers camvault uses: Transport
// ([Transport], [Transports]), Session ([Session]), Range with npt, clock and smpte times
// ([Range]), RTP-Info ([RTPInfo]), Scale, Speed, Rate-Control, Immediate and Frames (ONVIF
// replay), Accept and the option tags of Require and Proxy-Require.
//
// The package is pure, like [github.com/camvault/camvault/rtsp/base] on which it builds:
// no sockets, no goroutines, no logging.
package headers
