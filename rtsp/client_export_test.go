package rtsp

// ResolveControl exports resolveControl to the black-box tests.
var ResolveControl = resolveControl
