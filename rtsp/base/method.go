package base

// Method is an RTSP request method. Methods are case-sensitive [2326 §10].
type Method string

// Methods of RTSP 1.0 [2326 §10].
const (
	MethodOptions      Method = "OPTIONS"
	MethodDescribe     Method = "DESCRIBE"
	MethodAnnounce     Method = "ANNOUNCE"
	MethodSetup        Method = "SETUP"
	MethodPlay         Method = "PLAY"
	MethodPause        Method = "PAUSE"
	MethodRecord       Method = "RECORD"
	MethodTeardown     Method = "TEARDOWN"
	MethodGetParameter Method = "GET_PARAMETER"
	MethodSetParameter Method = "SET_PARAMETER"
	MethodRedirect     Method = "REDIRECT"
)
