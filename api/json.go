package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// timeLayout is how the API writes instants: RFC 3339 in UTC with
// milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// jsonTime is an instant in the API's layout; the zero time is null.
type jsonTime time.Time

// MarshalJSON implements json.Marshaler.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + tt.UTC().Format(timeLayout) + `"`), nil
}

// seconds is a span written as float seconds.
type seconds time.Duration

// MarshalJSON implements json.Marshaler.
func (d seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', -1, 64), nil
}

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // the client went away: nothing to do
	return nil
}

// decodeBody decodes r's JSON body into v strictly: Content-Type
// application/json (415 otherwise), at most Config.MaxBodyBytes (413), no
// unknown field, one value and nothing after it (400).
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errStatus(http.StatusUnsupportedMediaType, "the body must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return bodyError(err)
	}
	return errStatus(http.StatusBadRequest, "the body holds more than one JSON value")
}

// bodyError maps a decoding error to 413 or 400.
func bodyError(err error) error {
	if mb, ok := asMaxBytes(err); ok {
		return errStatus(http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.FormatInt(mb.Limit, 10)+" bytes")
	}
	return errStatus(http.StatusBadRequest, "malformed JSON body: "+err.Error())
}

func asMaxBytes(err error) (*http.MaxBytesError, bool) {
	return errors.AsType[*http.MaxBytesError](err)
}
