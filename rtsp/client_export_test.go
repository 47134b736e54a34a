package rtsp

// Exports of unexported client functions to the black-box tests.
var (
	ResolveControl     = resolveControl
	ControlFallback    = controlFallback
	ParseClientSession = parseClientSession
	HasStatus          = hasStatus
)
