package base

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
// than MaxHeaderBytes plus MaxBody for one message.
type Limits struct {
	// MaxRequestLine is the longest request or status line in bytes,
	// terminator excluded. Defaults to 4 KiB.
	MaxRequestLine int
	// MaxURL is the longest Request-URI in bytes; longer gives 414.
	// Defaults to 2 KiB.
	MaxURL int
	// MaxHeaderLine is the longest single header line in bytes (a folded
	// header counts line by line). Defaults to 8 KiB.
	MaxHeaderLine int
	// MaxHeaders is the most header lines per message. Defaults to 64.
	MaxHeaders int
	// MaxHeaderBytes bounds the whole header block in bytes. Defaults to 16 KiB.
	MaxHeaderBytes int
	// MaxBody is the largest Content-Length accepted; larger gives 413.
	// Defaults to 64 KiB.
	MaxBody int
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
