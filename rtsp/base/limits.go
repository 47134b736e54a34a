package base

import "github.com/camvault/camvault/internal/settings"

// Default message limits (SEC-01).
const (
	DefaultMaxRequestLine = 4 << 10
	DefaultMaxURL         = 2 << 10
	DefaultMaxHeaderLine  = 8 << 10
	DefaultMaxHeaders     = 64
	DefaultMaxHeaderBytes = 16 << 10
	DefaultMaxBody        = 64 << 10
)

// Limits bounds what Request.Unmarshal and Response.Unmarshal read
// (SEC-01). Zero fields take the defaults; a decoder never allocates more
// than MaxHeaderBytes plus MaxBody for one message. The yaml tags are the
// keys of camvault's rtsp section (package settings).
type Limits struct {
	// MaxRequestLine is the longest request or status line in bytes,
	// terminator excluded. Defaults to 4 KiB.
	MaxRequestLine int `yaml:"max_request_line" unit:"bytes"`
	// MaxURL is the longest Request-URI in bytes; longer gives 414.
	// Defaults to 2 KiB.
	MaxURL int `yaml:"max_url" unit:"bytes"`
	// MaxHeaderLine is the longest single header line in bytes (a folded
	// header counts line by line). Defaults to 8 KiB.
	MaxHeaderLine int `yaml:"max_header_line" unit:"bytes"`
	// MaxHeaders is the most header lines per message. Defaults to 64.
	MaxHeaders int `yaml:"max_header_lines"`
	// MaxHeaderBytes bounds the whole header block in bytes. Defaults to 16 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes" unit:"bytes"`
	// MaxBody is the largest Content-Length accepted; larger gives 413.
	// Defaults to 64 KiB.
	MaxBody int `yaml:"max_body" unit:"bytes"`
}

// WithDefaults returns l with zero fields replaced by the defaults.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxRequestLine, DefaultMaxRequestLine)
	def(&l.MaxURL, DefaultMaxURL)
	def(&l.MaxHeaderLine, DefaultMaxHeaderLine)
	def(&l.MaxHeaders, DefaultMaxHeaders)
	def(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def(&l.MaxBody, DefaultMaxBody)
	return l
}

// DefaultLimits returns the default of every field.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// Validate checks limits with defaults applied: each within the bounds an
// operator may set, the URL within the request line and a header line
// within the header block. Failures are *settings.FieldError.
func (l Limits) Validate() error {
	var c settings.Check
	c.Bytes("max_request_line", int64(l.MaxRequestLine), 256, 64<<10)
	c.Bytes("max_url", int64(l.MaxURL), 256, 64<<10)
	c.AtMost("max_url", int64(l.MaxURL), "max_request_line", int64(l.MaxRequestLine))
	c.Bytes("max_header_line", int64(l.MaxHeaderLine), 256, 64<<10)
	c.Count("max_header_lines", l.MaxHeaders, 1, 1024)
	c.Bytes("max_header_bytes", int64(l.MaxHeaderBytes), 1<<10, 1<<20)
	c.AtMost("max_header_line", int64(l.MaxHeaderLine), "max_header_bytes", int64(l.MaxHeaderBytes))
	c.Bytes("max_body", int64(l.MaxBody), 1<<10, 16<<20)
	return c.Err()
}
