package tunnel

// Kind is the direction a tunnel request opens.
type Kind int

// The kinds of tunnel request.
const (
	// KindGet opens the server-to-client direction: RTSP responses and
	// interleaved frames, as they are, in the GET's answer.
	KindGet Kind = iota + 1
	// KindPost opens the client-to-server direction: RTSP requests and
	// interleaved frames in base64, in the POST's body.
	KindPost
)

// String returns "GET" or "POST".
func (k Kind) String() string {
	switch k {
	case KindGet:
		return "GET"
	case KindPost:
		return "POST"
	}
	return "unknown"
}
