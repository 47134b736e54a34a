package headers

import (
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/rtsp/internal/lex"
)

// MaxSessionID bounds a session id [7826 §4.3].
const MaxSessionID = 128

// Session is the Session header: `id[;timeout=seconds]` [2326 §12.37].
type Session struct {
	// ID is the session identifier, 1 to 128 characters of
	// [A-Za-z0-9$-_.+] (RTSP-SES-01).
	ID string
	// Timeout is the advertised timeout, whole seconds; zero when absent.
	Timeout time.Duration
}

// Unmarshal parses a Session header value. Blanks around ";" and "=" are
// accepted and unknown parameters ignored (RTSP-SES-02).
func (s *Session) Unmarshal(v string) error {
	parts := strings.Split(v, ";")
	id := strings.TrimSpace(parts[0])
	if !validSessionID(id) {
		return malformed("bad session id")
	}
	*s = Session{ID: id}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "timeout") {
			continue
		}
		n, err := parseBounded(strings.TrimSpace(val), 1<<20)
		if err != nil || n == 0 {
			return malformed("bad session timeout")
		}
		s.Timeout = time.Duration(n) * time.Second
	}
	return nil
}

// Marshal returns `id` or `id;timeout=N` with no blanks: ffmpeg matches the
// literal ";timeout=" (RTSP-SES-02). Timeout is rounded down to seconds,
// at least 1.
func (s *Session) Marshal() string {
	if s.Timeout <= 0 {
		return s.ID
	}
	secs := max(int64(s.Timeout/time.Second), 1)
	return s.ID + ";timeout=" + strconv.FormatInt(secs, 10)
}

func validSessionID(id string) bool {
	if id == "" || len(id) > MaxSessionID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || lex.IsDigit(c) || strings.IndexByte("$-_.+", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
