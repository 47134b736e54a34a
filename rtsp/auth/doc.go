// Package auth is RTSP authentication (RFC 2617, RFC 7616) as pure functions: the client
// side parses WWW-Authenticate challenges ([ParseWWWAuthenticate], [PickChallenge]) and
// answers them ([Challenge.Authorize], [DigestResponse]); the server side ([Server]) builds
// 401 challenges with nonces bound to the client's address and checks Authorization headers
// against [Credentials].
//
// The package opens no sockets, starts no goroutines and does no logging; its only clock is
// ServerConfig.Now.
package auth
