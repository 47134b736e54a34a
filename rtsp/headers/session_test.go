package headers_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/headers"
)

var sessionCases = []struct {
	name string
	in   string
	out  string
	want headers.Session
}{
	{"RTSP-SES-02 id only", "6bd8c1e2a94f4d1f9c0e7b3a5d2f8e41", "", headers.Session{ID: "6bd8c1e2a94f4d1f9c0e7b3a5d2f8e41"}},
	{"RTSP-SES-02 timeout", "12345678;timeout=60", "", headers.Session{ID: "12345678", Timeout: 60 * time.Second}},
	{"RTSP-SES-02 blanks accepted", " abc$-_.+ ; Timeout = 30 ; x=y", "abc$-_.+;timeout=30", headers.Session{ID: "abc$-_.+", Timeout: 30 * time.Second}},
}

var badSessions = []string{"", ";timeout=60", "a b", "abc;timeout=x", "abc;timeout=0", "a\"b", string(make([]byte, 129))}

func TestSessionUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range sessionCases {
		t.Run(tc.name, func(t *testing.T) {
			var s headers.Session
			if err := s.Unmarshal(tc.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s, tc.want) {
				t.Fatalf("got %+v want %+v", s, tc.want)
			}
			want := tc.out
			if want == "" {
				want = tc.in
			}
			if got := tc.want.Marshal(); got != want {
				t.Fatalf("Marshal %q want %q", got, want)
			}
		})
	}
	for _, in := range badSessions {
		var s headers.Session
		if s.Unmarshal(in) == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// FuzzSession checks no panic, allocations within rtsptest.ParseAlloc, and that
// output re-parses equal. No crasher
// found so far.
func FuzzSession(f *testing.F) {
	for _, tc := range sessionCases {
		f.Add(tc.in)
	}
	for _, in := range badSessions {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s headers.Session
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = s.Unmarshal(in) })
		if err != nil {
			return
		}
		var again headers.Session
		if err := again.Unmarshal(s.Marshal()); err != nil || again != s {
			t.Fatalf("re-parse of %q: %+v %v", s.Marshal(), again, err)
		}
	})
}
