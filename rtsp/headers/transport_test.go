package headers_test

import (
	"reflect"
	"testing"

	"github.com/camvault/camvault/internal/alloctest"
	"github.com/camvault/camvault/internal/rtsptest"
	"github.com/camvault/camvault/rtsp/headers"
)

func pair(a, b int) *headers.PortPair { return &headers.PortPair{RTP: a, RTCP: b} }
func u32(v uint32) *uint32            { return &v }
func intp(v int) *int                 { return &v }

// transportCases drive decode, encode and the fuzz seeds; out is the
// canonical form (RTSP-TR-07: no blanks, explicit delivery).
var transportCases = []struct {
	name string
	in   string
	out  string
	want headers.Transports
}{
	{
		name: "CLI-03 ffmpeg TCP record",
		in:   "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
		want: headers.Transports{{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: pair(0, 1), Mode: headers.ModeRecord}},
	},
	{
		name: "CLI-03 ffmpeg UDP record",
		in:   "RTP/AVP/UDP;unicast;client_port=22000-22001;mode=record",
		out:  "RTP/AVP;unicast;client_port=22000-22001;mode=record",
		want: headers.Transports{{Profile: "RTP/AVP", ClientPort: pair(22000, 22001), Mode: headers.ModeRecord}},
	},
	{
		name: "CLI-12 GStreamer mode=RECORD",
		in:   "RTP/AVP/TCP;unicast;interleaved=2-3;mode=RECORD",
		out:  "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record",
		want: headers.Transports{{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: pair(2, 3), Mode: headers.ModeRecord}},
	},
	{
		name: "RTSP-TR-02 quoted receive",
		in:   `RTP/AVP;unicast;client_port=5000-5001;mode="receive"`,
		out:  "RTP/AVP;unicast;client_port=5000-5001;mode=record",
		want: headers.Transports{{Profile: "RTP/AVP", ClientPort: pair(5000, 5001), Mode: headers.ModeRecord}},
	},
	{
		name: "RTSP-TR-01 lower case, blanks, unknown params, list",
		in:   "rtp/avp/udp; unicast; client_port=4588-4589; x-foo=bar , RTP/AVP/TCP;unicast;interleaved=0-1",
		out:  "RTP/AVP;unicast;client_port=4588-4589,RTP/AVP/TCP;unicast;interleaved=0-1",
		want: headers.Transports{
			{Profile: "RTP/AVP", ClientPort: pair(4588, 4589)},
			{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: pair(0, 1)},
		},
	},
	{
		name: "RTSP-TR-03 single port and rtcp-mux, RTSP-TR-04 implicit unicast",
		in:   "RTP/AVP;client_port=6000,RTP/AVP;client_port=7000-7000,RTP/AVP/TCP;interleaved=4",
		out:  "RTP/AVP;unicast;client_port=6000-6001,RTP/AVP;unicast;client_port=7000-7000,RTP/AVP/TCP;unicast;interleaved=4-5",
		want: headers.Transports{
			{Profile: "RTP/AVP", ClientPort: pair(6000, 6001)},
			{Profile: "RTP/AVP", ClientPort: pair(7000, 7000)},
			{Profile: "RTP/AVP", Lower: headers.LowerTCP, Interleaved: pair(4, 5)},
		},
	},
	{
		name: "RTSP-TR-13 multicast",
		in:   "RTP/AVP;multicast;destination=239.1.2.3;port=5000-5001;ttl=16",
		want: headers.Transports{{Profile: "RTP/AVP", Multicast: true, Destination: "239.1.2.3", Port: pair(5000, 5001), TTL: intp(16)}},
	},
	{
		name: "implicit multicast from destination, CLI-03 bare multicast",
		in:   "RTP/AVP;destination=239.1.2.3,RTP/AVP/UDP;multicast",
		out:  "RTP/AVP;multicast;destination=239.1.2.3,RTP/AVP;multicast",
		want: headers.Transports{
			{Profile: "RTP/AVP", Multicast: true, Destination: "239.1.2.3"},
			{Profile: "RTP/AVP", Multicast: true},
		},
	},
	{
		name: "RTSP-TR-05 short ssrc with blank, RTSP-TR-08 server reply",
		in:   "RTP/AVP;unicast;client_port=51234-51235;server_port=8000-8001;ssrc= 4F2A9;source=192.0.2.1;append",
		out:  "RTP/AVP;unicast;source=192.0.2.1;client_port=51234-51235;server_port=8000-8001;ssrc=0004F2A9;append",
		want: headers.Transports{{
			Profile: "RTP/AVP", ClientPort: pair(51234, 51235), ServerPort: pair(8000, 8001),
			SSRC: u32(0x4f2a9), Source: "192.0.2.1", Append: true,
		}},
	},
	{
		name: "SRTP profile parsed (refused by the server)",
		in:   "RTP/SAVP;unicast;client_port=1-2;mode=play",
		want: headers.Transports{{Profile: "RTP/SAVP", ClientPort: pair(1, 2), Mode: headers.ModePlay}},
	},
}

var badTransports = []string{
	"", "RTP", "RTP/AVP/SCTP", "RTP/AVP;client_port=70000", "RTP/AVP;client_port=65535",
	"RTP/AVP/TCP;interleaved=256", "RTP/AVP;client_port=a-b", "RTP/AVP;ssrc=123456789",
	"RTP/AVP;mode=teleport", "RTP/AVP;ttl=300", "RTP/AVP;destination=a b", "RTP/AVP,",
}

func TestTransportUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			var ts headers.Transports
			if err := ts.Unmarshal(tc.in); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ts, tc.want) {
				t.Fatalf("got %+v\nwant %+v", ts, tc.want)
			}
		})
	}
}

func TestTransportMarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.out
			if want == "" {
				want = tc.in
			}
			if got := tc.want.Marshal(); got != want {
				t.Fatalf("got %q\nwant %q", got, want)
			}
		})
	}
}

func TestTransportUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, in := range badTransports {
		var ts headers.Transports
		if err := ts.Unmarshal(in); err == nil {
			t.Errorf("%q: no error, got %+v", in, ts)
		}
	}
}

// FuzzTransport checks no panic, allocations within rtsptest.ParseAlloc, and that
// canonical output re-parses equal
// (RTSP-TR-07). No crasher found so far.
func FuzzTransport(f *testing.F) {
	for _, tc := range transportCases {
		f.Add(tc.in)
	}
	for _, in := range badTransports {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var ts headers.Transports
		var err error
		alloctest.Check(t, rtsptest.ParseAlloc, len(in), func() { err = ts.Unmarshal(in) })
		if err != nil {
			return
		}
		out := ts.Marshal()
		var again headers.Transports
		if err := again.Unmarshal(out); err != nil {
			t.Fatalf("re-parse %q: %v", out, err)
		}
		if !reflect.DeepEqual(ts, again) {
			t.Fatalf("re-parse of %q differs:\n%+v\n%+v", out, ts, again)
		}
	})
}
