package bench

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []int
	}{
		{"one", "10", []int{10}},
		{"list", "1,10,200", []int{1, 10, 200}},
		{"blanks", " 1 , 2", []int{1, 2}},
		{"max", "5000", []int{5000}},
		{"zero", "0", nil},
		{"over max", "5001", nil},
		{"negative", "-3", nil},
		{"empty item", "1,,2", nil},
		{"word", "ten", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCounts(tc.in)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("parseCounts(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("parseCounts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestRunRefusesUnknownBenchmarks(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"record"}, {"-n", "2"}} {
		if err := Run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("Run(%q) succeeded", args)
		}
	}
}

// TestRunRefusesBadFlags checks that each benchmark validates its flags
// before it encodes a clip or starts anything.
func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // in the error
	}{
		{[]string{"push", "-n", "0"}, "want counts"},
		{[]string{"push", "-transport", "sctp"}, "-transport"},
		{[]string{"push", "-transport", "udp", "-tls"}, "-tls needs -transport tcp"},
		{[]string{"push", "-duration", "2s", "-ramp", "0s"}, "-duration"},
		{[]string{"push", "-duration", "6s", "-ramp", "5s"}, "-duration"},
		{[]string{"push", "-no-such-flag"}, "not defined"},
		{[]string{"push", "-http-probe", "-http-probe-every", "5ms"}, "-http-probe-every"},
		{[]string{"push", "-tier", "-duration", "10s", "-tier-segment", "6s"}, "-tier-segment 6s: want 1s to half of -duration"},
		{[]string{"push", "-tier", "-tier-segment", "500ms"}, "-tier-segment"},
		{[]string{"push", "-tier", "-tier-scan", "1ms"}, "-tier-scan"},
		{[]string{"push", "-tier", "-tier-concurrency", "300"}, "-tier-concurrency"},
		{[]string{"push", "-tier", "-tier-drain", "0s"}, "-tier-drain"},
		{[]string{"play", "-n", "1,x"}, "want counts"},
		{[]string{"pull", "-source", "tape"}, "-source"},
		{[]string{"pull", "-transport", "sctp"}, "-transport"},
		{[]string{"pull", "-source", "archive", "-transport", "udp"}, "tcp only"},
		{[]string{"pull", "-duration", "9s", "-ramp", "5s"}, "-duration"},
		{[]string{"live", "-n", "0"}, "want counts"},
		{[]string{"live", "-n", "", "-on-demand", "0"}, "nothing to run"},
		{[]string{"live", "-cameras", "-1"}, "-cameras"},
		{[]string{"live", "-cameras", "3000", "-viewers-per-camera", "2"}, "-cameras"},
		{[]string{"live", "-viewers-per-camera", "0"}, "-viewers-per-camera"},
		{[]string{"live", "-on-demand", "-1"}, "-on-demand"},
		{[]string{"live", "-gop", "50ms"}, "-gop"},
		{[]string{"live", "-linger", "100ms"}, "-linger"},
		{[]string{"live", "-measure", "0s"}, "-measure"},
		{[]string{"live", "-duration", "20s"}, "-duration must be at least 37.5s"},
		{[]string{"live", "-duration", "40s", "-cameras", "2"}, "-duration must be at least 42.5s"},
	} {
		err := Run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

func TestParsePush(t *testing.T) {
	t.Parallel()
	o, err := parsePush([]string{"-n", "1,2", "-duration", "30s", "-ramp", "10s", "-tick", "0", "-auth", "-tls",
		"-server-config", "storage: {sync: none}", "-camvault", "/bin/camvault", "-pprof", "127.0.0.1:6060"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := serverOptions{exe: "/bin/camvault", pprof: "127.0.0.1:6060", extraConf: "storage: {sync: none}", auth: true, tls: true}
	if !slices.Equal(o.counts, []int{1, 2}) || o.clip.duration != 30*time.Second || o.ramp != 10*time.Second ||
		o.tick != 0 || o.transport != "tcp" || o.clip.bitrate != "3M" || o.server != want {
		t.Errorf("parsePush = %+v", o)
	}
	if got := o.protoLabel(false); got != "tls+auth" {
		t.Errorf("protoLabel = %q, want tls+auth", got)
	}
	if got := o.protoLabel(true); got != "tls+auth+tier" {
		t.Errorf("protoLabel of a tiered round = %q, want tls+auth+tier", got)
	}
	o, err = parsePush([]string{"-http-probe", "-http-probe-every", "100ms"}, io.Discard)
	if err != nil || o.probeEvery != 100*time.Millisecond {
		t.Errorf("parsePush -http-probe: %+v, %v", o, err)
	}
	o, err = parsePush([]string{"-transport", "udp", "-http-probe-every", "1ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.tick != defaultTick || o.clip.duration != time.Minute || !slices.Equal(o.counts, []int{10}) || o.protoLabel(false) != "udp" || o.probeEvery != 0 || o.tier.on ||
		len(o.tier.rounds()) != 1 {
		t.Errorf("parsePush defaults = %+v", o)
	}
}

func TestParsePlayAndPull(t *testing.T) {
	t.Parallel()
	p, err := parsePlay([]string{"-n", "3", "-index-cameras", "0", "-seeks", "5", "-camvault", "x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.counts, []int{3}) || p.indexCameras != 0 || p.indexDays != 30 || p.seeks != 5 || p.server.exe != "x" {
		t.Errorf("parsePlay = %+v", p)
	}
	q, err := parsePull([]string{"-source", "archive", "-n", "4"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.counts, []int{4}) || q.source != "archive" || q.transport != "tcp" || q.tick != defaultTick || q.ramp != 5*time.Second {
		t.Errorf("parsePull = %+v", q)
	}
}
