// Package tunnel is the wire of RTSP tunnelled in HTTP, the QuickTime and
// ONVIF "RTP/RTSP/HTTP/TCP" transport (RTSP-HT-01..07): a GET that the
// server answers at once and keeps open for everything it sends, and a POST
// with the same x-sessioncookie whose never-ending body carries the client's
// RTSP messages and interleaved frames in base64.
//
// It holds what is pure about it: [Classify] tells a tunnel GET or POST
// from any other HTTP request and checks its cookie, [AppendOK] and
// [AppendError] write the server's answers, and [Decoder] decodes a POST
// body as a stream, across reads that split base64 anywhere, with
// whitespace and padding between the messages that clients encode one by
// one (RTSP-HT-05). Like [github.com/camvault/camvault/rtsp/base], on which
// it builds, it opens no sockets, starts no goroutines and does no logging;
// rtsp.Server pairs the two connections of a tunnel into one RTSP
// connection on top.
//
// Specification: Apple, "Tunneling QuickTime RTSP and RTP over HTTP";
// ONVIF Streaming Specification, "RTP/RTSP over HTTP or HTTPS/TCP".
package tunnel
