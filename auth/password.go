package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds of an argon2id PHC string accepted by ParseArgon2id. They keep a
// hostile or mistyped configuration from making one check cost gigabytes
// or minutes.
const (
	maxPHCLen       = 256
	maxArgon2Memory = 256 << 10 // KiB, so 256 MiB
	maxArgon2Time   = 32
	maxArgon2Thread = 64
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 64
)

// argon2Version is the only version accepted (0x13 = 19).
const argon2Version = argon2.Version

// Argon2Params are the cost parameters of a new argon2id hash.
type Argon2Params struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen, KeyLen int
}

// DefaultArgon2Params returns the parameters HashPassword uses for
// camvault passwd: 19 MiB, 2 passes, 1 thread, a 16-byte salt and a
// 32-byte key (the OWASP password storage recommendation).
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19 << 10, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Argon2Hash is a parsed argon2id password hash.
type Argon2Hash struct {
	Params Argon2Params
	Salt   []byte
	Key    []byte
}

// HashPassword hashes password with argon2id under p, with a salt read
// from rand (crypto/rand.Reader in production).
func HashPassword(password string, p Argon2Params, rand io.Reader) (Argon2Hash, error) {
	h := Argon2Hash{Params: p, Salt: make([]byte, p.SaltLen)}
	if _, err := io.ReadFull(rand, h.Salt); err != nil {
		return Argon2Hash{}, fmt.Errorf("read salt: %w", err)
	}
	if err := h.check(); err != nil {
		return Argon2Hash{}, err
	}
	h.Key = h.derive(password)
	return h, nil
}

func (h *Argon2Hash) derive(password string) []byte {
	p := h.Params
	return argon2.IDKey([]byte(password), h.Salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
}

// Verify reports whether password matches h, comparing in constant time.
// It costs h.Params.Memory KiB and h.Params.Time passes.
func (h *Argon2Hash) Verify(password string) bool {
	return subtle.ConstantTimeCompare(h.derive(password), h.Key) == 1
}

// String returns the PHC string form:
// $argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$KEY, salt and key in
// unpadded standard base64.
func (h *Argon2Hash) String() string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2Version,
		h.Params.Memory, h.Params.Time, h.Params.Threads, enc.EncodeToString(h.Salt), enc.EncodeToString(h.Key))
}

// ParseArgon2id parses a PHC string as String writes it. Parameters
// outside camvault's bounds (memory over 256 MiB, more than 32 passes or
// 64 threads, salt of 8 to 64 bytes, key of 16 to 64 bytes) are ErrPHC.
func ParseArgon2id(s string) (Argon2Hash, error) {
	if len(s) > maxPHCLen {
		return Argon2Hash{}, fmt.Errorf("%w: longer than %d bytes", ErrPHC, maxPHCLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Argon2Hash{}, fmt.Errorf("%w: want $argon2id$v=19$m=..,t=..,p=..$salt$hash", ErrPHC)
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return Argon2Hash{}, fmt.Errorf("%w: version %q, want v=%d", ErrPHC, parts[2], argon2Version)
	}
	var h Argon2Hash
	if err := h.Params.parse(parts[3]); err != nil {
		return Argon2Hash{}, err
	}
	var ok1, ok2 bool
	h.Salt, ok1 = decodeB64(parts[4])
	h.Key, ok2 = decodeB64(parts[5])
	if !ok1 || !ok2 {
		return Argon2Hash{}, fmt.Errorf("%w: salt and hash must be unpadded base64", ErrPHC)
	}
	h.Params.SaltLen, h.Params.KeyLen = len(h.Salt), len(h.Key)
	return h, h.check()
}

// decodeB64 decodes unpadded standard base64 written canonically: the
// decoder alone skips CR and LF, which would give a second spelling of one
// hash (FuzzParseArgon2id).
func decodeB64(s string) ([]byte, bool) {
	enc := base64.RawStdEncoding.Strict()
	b, err := enc.DecodeString(s)
	return b, err == nil && enc.EncodeToString(b) == s
}

// parse reads "m=M,t=T,p=P" in this order.
func (p *Argon2Params) parse(s string) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return fmt.Errorf("%w: parameters %q, want m=..,t=..,p=..", ErrPHC, s)
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(fields[i], name)
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil || (len(num) > 1 && num[0] == '0') {
			return fmt.Errorf("%w: parameters %q, want m=..,t=..,p=..", ErrPHC, s)
		}
		v[i] = n
	}
	if v[2] > maxArgon2Thread {
		return fmt.Errorf("%w: p=%d, want 1..%d", ErrPHC, v[2], maxArgon2Thread)
	}
	p.Memory, p.Time, p.Threads = uint32(v[0]), uint32(v[1]), uint8(v[2])
	return nil
}

// check enforces the bounds of ParseArgon2id.
func (h *Argon2Hash) check() error {
	p := h.Params
	switch {
	case p.Threads < 1 || p.Threads > maxArgon2Thread:
		return fmt.Errorf("%w: p=%d, want 1..%d", ErrPHC, p.Threads, maxArgon2Thread)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		return fmt.Errorf("%w: m=%d, want 8*p..%d KiB", ErrPHC, p.Memory, maxArgon2Memory)
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("%w: t=%d, want 1..%d", ErrPHC, p.Time, maxArgon2Time)
	case len(h.Salt) < minSaltLen || len(h.Salt) > maxSaltLen:
		return fmt.Errorf("%w: salt of %d bytes, want %d..%d", ErrPHC, len(h.Salt), minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: hash of %d bytes, want %d..%d", ErrPHC, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
