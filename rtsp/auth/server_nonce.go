package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"time"
)

// Nonce layout: 8 bytes of issue time (Unix ns, big-endian) and the first
// 16 bytes of HMAC-SHA256(secret, time || peer as 16 bytes), in hex
// (RTSP-AUTH-09).
const (
	nonceTimeLen = 8
	nonceMACLen  = 16
	nonceHexLen  = 2 * (nonceTimeLen + nonceMACLen)
	minSecretLen = 16
)

// nonce returns a nonce issued at t for peer.
func (s *Server) nonce(peer netip.Addr, t time.Time) string {
	var b [nonceTimeLen + nonceMACLen]byte
	binary.BigEndian.PutUint64(b[:nonceTimeLen], uint64(t.UnixNano()))
	copy(b[nonceTimeLen:], s.nonceMAC(b[:nonceTimeLen], peer))
	return hex.EncodeToString(b[:])
}

func (s *Server) nonceMAC(issued []byte, peer netip.Addr) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write(issued)
	a := peer.Unmap().As16()
	m.Write(a[:])
	return m.Sum(nil)[:nonceMACLen]
}

// freshNonce reports whether nonce was issued by s to peer less than the
// nonce lifetime before now (and not after now).
func (s *Server) freshNonce(nonce string, peer netip.Addr, now time.Time) bool {
	if len(nonce) != nonceHexLen {
		return false
	}
	b, err := hex.DecodeString(nonce)
	if err != nil || !hmac.Equal(b[nonceTimeLen:], s.nonceMAC(b[:nonceTimeLen], peer)) {
		return false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:nonceTimeLen])))
	age := now.Sub(issued)
	return age >= 0 && age < s.lifetime
}
