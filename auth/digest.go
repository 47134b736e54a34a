package auth

import (
	"crypto/md5" //nolint:gosec // Digest MD5 is what cameras and players speak (RFC 2617)
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
)

// Digest algorithms of the HA1 values a user may hold [7616 §3.3]. They
// are spelled as in the algorithm parameter of a Digest header.
const (
	DigestMD5    = "MD5"
	DigestSHA256 = "SHA-256"
)

// DigestHA1 returns HA1 = H(user ":" realm ":" password) in lower-case hex
// for algorithm DigestMD5 or DigestSHA256 [2617 §3.2.2.2, 7616 §3.4.2].
func DigestHA1(algorithm, user, realm, password string) (string, error) {
	newHash, _ := digestHash(algorithm)
	if newHash == nil {
		return "", fmt.Errorf("%w %q", ErrAlgorithm, algorithm)
	}
	h := newHash()
	h.Write([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// digestHash returns the hash of algorithm and its size in bytes, or nil.
func digestHash(algorithm string) (func() hash.Hash, int) {
	switch algorithm {
	case DigestMD5:
		return md5.New, md5.Size
	case DigestSHA256:
		return sha256.New, sha256.Size
	}
	return nil, 0
}

// validHA1 checks that s is a lower-case hex HA1 of algorithm's size.
func validHA1(algorithm, s string) error {
	_, size := digestHash(algorithm)
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != size || hex.EncodeToString(b) != s {
		return fmt.Errorf("want %d lower-case hex digits (%s of user:realm:password)", 2*size, algorithm)
	}
	return nil
}
