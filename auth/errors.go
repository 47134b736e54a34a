package auth

import (
	"errors"
)

// ErrBadCredentials is returned by Authority.CheckPassword for an unknown
// user, a user without an argon2id hash and a wrong password alike, so
// that callers cannot tell them apart (RTSP-AUTH-12).
var ErrBadCredentials = errors.New("bad credentials")

// Errors of the parsers; Config.Validate wraps them in a *settings.FieldError.
var (
	// ErrPHC is returned by ParseArgon2id for a malformed or out-of-bounds
	// argon2id PHC string.
	ErrPHC = errors.New("invalid argon2id PHC string")
	// ErrGlob is returned for a malformed camera glob.
	ErrGlob = errors.New("invalid camera glob")
	// ErrAction is returned by ParseAction for an unknown action name.
	ErrAction = errors.New("unknown action")
	// ErrAlgorithm is returned for a Digest algorithm other than MD5 and
	// SHA-256.
	ErrAlgorithm = errors.New("unsupported digest algorithm")
)
