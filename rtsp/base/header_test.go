package base_test

import (
	"testing"

	"github.com/camvault/camvault/rtsp/base"
	"github.com/camvault/camvault/rtsp/headers"
)

func TestCanonicalHeaderName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"cseq": "CSeq", "CSEQ": "CSeq", "rtp-info": "RTP-Info", "www-authenticate": "WWW-Authenticate",
		"content-base": "Content-Base", "TRANSPORT": "Transport", "x-dynamic-rate": "X-Dynamic-Rate",
		"Session": "Session",
	} {
		if got := base.CanonicalHeaderName(in); got != want {
			t.Errorf("CanonicalHeaderName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderCaseInsensitive covers RTSP-MSG-04.
func TestHeaderCaseInsensitive(t *testing.T) {
	t.Parallel()
	h := base.Header{}
	h.Add("content-length", "1")
	h.Add("CONTENT-LENGTH", "2")
	if got := h.Values("Content-Length"); len(got) != 2 || got[0] != "1" {
		t.Fatalf("values %v", got)
	}
	h.Set("cSeQ", "5")
	if h.Get("CSEQ") != "5" || !h.Has("cseq") {
		t.Fatal("get")
	}
	c := h.Clone()
	h.Del("cseq")
	if h.Has("CSeq") || !c.Has("CSeq") {
		t.Fatal("del/clone")
	}
}

func TestParseOptionTags(t *testing.T) {
	t.Parallel()
	got := headers.ParseOptionTags(" onvif-replay ,, www.onvif.org/ver20/backchannel")
	if len(got) != 2 || got[0] != "onvif-replay" || got[1] != "www.onvif.org/ver20/backchannel" {
		t.Fatalf("got %q", got)
	}
}
