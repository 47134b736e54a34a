package cluster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var recordCases = []struct {
	name  string
	value string
	ok    bool
}{
	{"owner", `{"node":"a","rtsp_url":"rtsp://a:8554","http_url":"http://a:8080"}`, true},
	{"owner with a newer field", `{"node":"a","zone":"x"}`, true},
	{"owner without node", `{"rtsp_url":"rtsp://a:8554"}`, false},
	{"owner with a bad node", `{"node":"../a"}`, false},
	{"not json", `node=a`, false},
	{"too long", `{"node":"a","pad":"` + strings.Repeat("x", maxRecordBytes) + `"}`, false},
	{"member", `{"rtsp_url":"rtsp://a:8554","capacity":500,"started":"2026-12-07T10:00:00Z"}`, true},
	{"member without capacity", `{"rtsp_url":"rtsp://a:8554"}`, false},
}

func TestDecodeRecords(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.name, "member") {
				_, err = decodeMember("a", []byte(tc.value))
			} else {
				_, err = decodeOwner([]byte(tc.value), 7)
			}
			if (err == nil) != tc.ok {
				t.Fatalf("decode %s: %v, want ok %v", tc.value, err, tc.ok)
			}
		})
	}
	m, err := encodeMember(Config{RTSPURL: "rtsp://a:1", HTTPURL: "http://a:2", Capacity: 3, PeerToken: "tok"}, time.Unix(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMember("a", m)
	if err != nil || got.Capacity != 3 || got.RTSPURL != "rtsp://a:1" || !got.Started.Equal(time.Unix(5, 0)) || got.PeerToken != "tok" {
		t.Fatalf("member round trip: %+v, %v", got, err)
	}
}

func TestSplitKey(t *testing.T) {
	for key, want := range map[string]string{
		"/camvault/nodes/a":        "nodes/ a",
		"/camvault/owners/cam-1":   "owners/ cam-1",
		"/camvault/owners/":        "",
		"/camvault/owners/a/b":     "",
		"/camvault/other/a":        "",
		"/elsewhere/owners/cam-1":  "",
		"/camvault/nodes/.hidden":  "",
		"/camvault/owners/cam.1_x": "owners/ cam.1_x",
	} {
		dir, name, ok := splitKey("/camvault/", key)
		got := ""
		if ok {
			got = dir + " " + name
		}
		if got != want {
			t.Errorf("splitKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// FuzzDecodeRecord: values read from etcd (any client with write access to the prefix may
// have written them) decode or fail, never panic, and a decoded owner re-encodes to a
// value that decodes the same.
func FuzzDecodeRecord(f *testing.F) {
	for _, tc := range recordCases {
		f.Add([]byte(tc.value))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		_, _ = decodeMember("a", value)
		o, err := decodeOwner(value, 1)
		if err != nil {
			return
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeOwner(b, 1)
		if err != nil || again != o {
			t.Fatalf("%q: decoded %+v, re-encoded %s, decoded again %+v, %v", value, o, b, again, err)
		}
	})
}
