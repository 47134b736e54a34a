package base

// Status codes used by the server [2326 §7.1.1, §11].
const (
	StatusOK                            = 200
	StatusMovedPermanently              = 301
	StatusMovedTemporarily              = 302
	StatusBadRequest                    = 400
	StatusUnauthorized                  = 401
	StatusForbidden                     = 403
	StatusNotFound                      = 404
	StatusMethodNotAllowed              = 405
	StatusNotAcceptable                 = 406
	StatusLengthRequired                = 411
	StatusRequestEntityTooLarge         = 413
	StatusRequestURITooLong             = 414
	StatusUnsupportedMediaType          = 415
	StatusParameterNotUnderstood        = 451
	StatusNotEnoughBandwidth            = 453
	StatusSessionNotFound               = 454
	StatusMethodNotValidInThisState     = 455
	StatusHeaderFieldNotValid           = 456
	StatusInvalidRange                  = 457
	StatusAggregateOperationNotAllowed  = 459
	StatusOnlyAggregateOperationAllowed = 460
	StatusUnsupportedTransport          = 461
	StatusInternalServerError           = 500
	StatusNotImplemented                = 501
	StatusServiceUnavailable            = 503
	StatusRTSPVersionNotSupported       = 505
	StatusOptionNotSupported            = 551
)

var statusText = map[int]string{
	StatusOK:                            "OK",
	StatusMovedPermanently:              "Moved Permanently",
	StatusMovedTemporarily:              "Moved Temporarily",
	StatusBadRequest:                    "Bad Request",
	StatusUnauthorized:                  "Unauthorized",
	StatusForbidden:                     "Forbidden",
	StatusNotFound:                      "Not Found",
	StatusMethodNotAllowed:              "Method Not Allowed",
	StatusNotAcceptable:                 "Not Acceptable",
	StatusLengthRequired:                "Length Required",
	StatusRequestEntityTooLarge:         "Request Entity Too Large",
	StatusRequestURITooLong:             "Request-URI Too Long",
	StatusUnsupportedMediaType:          "Unsupported Media Type",
	StatusParameterNotUnderstood:        "Parameter Not Understood",
	StatusNotEnoughBandwidth:            "Not Enough Bandwidth",
	StatusSessionNotFound:               "Session Not Found",
	StatusMethodNotValidInThisState:     "Method Not Valid in This State",
	StatusHeaderFieldNotValid:           "Header Field Not Valid for Resource",
	StatusInvalidRange:                  "Invalid Range",
	StatusAggregateOperationNotAllowed:  "Aggregate Operation Not Allowed",
	StatusOnlyAggregateOperationAllowed: "Only Aggregate Operation Allowed",
	StatusUnsupportedTransport:          "Unsupported Transport",
	StatusInternalServerError:           "Internal Server Error",
	StatusNotImplemented:                "Not Implemented",
	StatusServiceUnavailable:            "Service Unavailable",
	StatusRTSPVersionNotSupported:       "RTSP Version Not Supported",
	StatusOptionNotSupported:            "Option not supported",
}

// StatusText returns the reason phrase for an RTSP status code, or the
// phrase of its class ("x00") when the code is unknown (RTSP-MSG-11).
func StatusText(code int) string {
	if t, ok := statusText[code]; ok {
		return t
	}
	switch code / 100 {
	case 2:
		return "OK"
	case 3:
		return "Redirection"
	case 4:
		return "Client Error"
	case 5:
		return "Server Error"
	}
	return "Unknown"
}
