package auth

import (
	"errors"

	"github.com/camvault/camvault/internal/settings"
)

// ErrBadCredentials is returned by Authority.CheckPassword for an unknown
// user, a user without an argon2id hash and a wrong password alike, so
// that callers cannot tell them apart (RTSP-AUTH-12).
var ErrBadCredentials = errors.New("bad credentials")

// Errors of the parsers; Config.Validate wraps them in a *FieldError.
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

// FieldError is a validation failure of one Config field. Path names the
// field as the configuration file spells it, with sequence indexes as
// decimal strings: ["users", "0", "permissions", "1", "action"]. It is the
// error type every package's Config validation shares.
type FieldError = settings.FieldError
