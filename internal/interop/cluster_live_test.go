//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/camvault/camvault/internal/etcdtest"
	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/storage/fmp4"
)

// TestClusterLiveRelay: ffmpeg pushes cam to node0 of a two-node cluster; a WebSocket
// client that opens cam's live.ws on node1, which does not have it, gets node0's stream
// through node1's relay: the description, an init segment of H.264 and AAC, then
// fragments whose video decode times advance by at least 1.5 s while it reads. Both
// nodes log one start line for the view (node1 relayed, node0 for the relay). Then
// headless Chromium plays node1's /live/cam page: the <video>'s currentTime advances.
func TestClusterLiveRelay(t *testing.T) {
	needTool(t, "ffmpeg")
	etcd := etcdtest.Start(t)
	nodes := clusterNodes(t, etcd, 2, "", true)
	for _, s := range nodes {
		s.start()
		t.Cleanup(s.stop)
	}
	pushLive(t, nodes[0], "http://"+nodes[0].http, "cam")
	nodes[1].waitFor(20*time.Second, "node1 sees node0 own cam", func() bool {
		var cam struct{ Owner string }
		nodes[1].getJSON("/api/v1/cameras/cam", &cam)
		return cam.Owner == "node0"
	})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws://"+nodes[1].http+"/api/v1/cameras/cam/live.ws",
		&websocket.DialOptions{Subprotocols: []string{"camvault.live.v1"}})
	if err != nil {
		t.Fatalf("live.ws on node1: %v (%v)\nnode1:\n%s", err, resp, nodes[1].logs)
	}
	defer conn.CloseNow()
	typ, b, err := conn.Read(ctx)
	var desc struct{ Type, MIME string }
	if err != nil || typ != websocket.MessageText || json.Unmarshal(b, &desc) != nil || desc.Type != "init" {
		t.Fatalf("first message: %v %q %v", typ, b, err)
	}
	typ, b, err = conn.Read(ctx)
	if err != nil || typ != websocket.MessageBinary {
		t.Fatalf("init segment: %v %v", typ, err)
	}
	tracks, err := media.TracksFromInit(b)
	if err != nil || len(tracks) != 2 || tracks[0].Codec != media.CodecH264 || tracks[1].Codec != media.CodecAAC {
		t.Fatalf("init segment of %d bytes: %v, tracks %v", len(b), err, tracks)
	}
	t.Logf("relayed description %q", desc.MIME)
	const want = 1500 * time.Millisecond
	var first, last uint64
	videos := 0
	for last-first < uint64(want.Seconds()*float64(tracks[0].ClockRate)) {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %d video fragments (dts %d to %d): %v", videos, first, last, err)
		}
		var p fmp4.ParsedFragment
		if err := fmp4.ParseFragment(b, &p); typ != websocket.MessageBinary || err != nil || len(p.Samples) == 0 {
			t.Fatalf("fragment (%v, %d bytes): %v", typ, len(b), err)
		}
		for _, s := range p.Samples {
			if s.TrackID != 1 {
				continue
			}
			if videos > 0 && s.DTS <= last {
				t.Fatalf("video fragment %d: dts %d after %d", videos, s.DTS, last)
			}
			if videos == 0 {
				first = s.DTS
			}
			last = s.DTS
			videos++
		}
	}
	t.Logf("%d video fragments relayed, dts %d to %d (clock %d Hz)", videos, first, last, tracks[0].ClockRate)
	if got := nodes[1].logValue("live view started", "relayed"); got != "true" {
		t.Errorf("node1's start line: relayed=%s", got)
	}
	if got := nodes[0].logValue("live view started", "relay"); got != "true" {
		t.Errorf("node0's start line: relay=%s", got)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	if got := nodes[0].logValue("live view stopped", "reason"); got != "client" {
		t.Errorf("node0's view of the relay ended as %s, want client", got)
	}

	t.Run("browser", func(t *testing.T) {
		b := startBrowser(t, needChromium(t))
		if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: advanceJS}); err != nil {
			t.Fatal(err)
		}
		b.do(30*time.Second, "open node1's live page of cam", chromedp.Navigate("http://"+nodes[1].http+"/live/cam"),
			chromedp.Poll[chromedp.Void](`window.liveAdvance !== undefined`, chromedp.WithPollingTimeout(20*time.Second)))
		t.Logf("page events: %s", eval[string](b, `window.liveEvents.join(' ')`))
		b.do(20*time.Second, "play for 2 s", chromedp.Poll[chromedp.Void](`document.getElementById('video').currentTime > 2`,
			chromedp.WithPollingTimeout(15*time.Second)))
		if st := eval[string](b, `document.getElementById('status').textContent`); !strings.Contains(st, "Live") {
			t.Errorf("the page's status is %q, want Live", st)
		}
		b.console.check(t)
	})
	if resp, _ := nodes[0].httpDo(http.MethodGet, "/cluster/v1/cameras/cam/live.ws", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("node0's peer live endpoint without the token: %s, want 401", resp.Status)
	}
}

// closesJS runs in the page before its scripts (after advanceJS): it notes every WebSocket
// close as "code reason" in window.liveCloses.
const closesJS = `(() => {
  window.liveCloses = [];
  const WS = window.WebSocket;
  window.WebSocket = function (...a) { const ws = new WS(...a);
    ws.addEventListener('close', (e) => window.liveCloses.push(e.code + ' ' + e.reason));
    return ws; };
})()`

// TestClusterLiveRelayFollowsMove: headless Chromium plays the live page of a pulled camera
// (GStreamer) on the node of two that does not own it, relayed from the owner; a third node
// joins and the assignment moves the camera to it: the relayed view ends with a reason the
// page shows, the page connects again by itself, and plays the camera relayed from the new
// owner.
func TestClusterLiveRelayFollowsMove(t *testing.T) {
	exe := needChromium(t)
	nodes, c, first := movingCameraCluster(t, true)
	viewer := nodes[1-first]

	b := startBrowser(t, exe)
	for _, js := range []string{advanceJS, closesJS} {
		if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js}); err != nil {
			t.Fatal(err)
		}
	}
	b.do(30*time.Second, "open the live page on the node that does not own the camera", chromedp.Navigate("http://"+viewer.http+"/live/"+c),
		chromedp.Poll[chromedp.Void](`window.liveAdvance !== undefined`, chromedp.WithPollingTimeout(20*time.Second)))
	if got := viewer.logValue("live view started", "owner"); got != fmt.Sprintf("node%d", first) {
		t.Errorf("the view is relayed from %s, want node%d", got, first)
	}

	nodes[2].start()
	t.Cleanup(nodes[2].stop)
	joined := time.Now()
	waitAssigned(t, nodes, []string{c}, -1)
	b.do(40*time.Second, "the page plays again after the move", chromedp.Poll[chromedp.Void](
		`window.liveCloses.length > 0 && window.liveEvents.filter((e) => e.startsWith('ws@')).length > window.liveCloses.length &&
		 document.getElementById('video').currentTime > 1 && document.getElementById('status').textContent === 'Live'`,
		chromedp.WithPollingTimeout(35*time.Second)))
	closes := eval[[]string](b, `window.liveCloses`)
	t.Logf("playing again %v after node2 started; closes %q; page events: %s", time.Since(joined).Round(100*time.Millisecond),
		closes, eval[string](b, `window.liveEvents.join(' ')`))
	if closes[0] != "1001 camera moved" && closes[0] != "1000 camera stopped" {
		t.Errorf("the relayed view closed with %q, want 1001 camera moved (or 1000 camera stopped by the old owner)", closes[0])
	}
	if got := nodes[2].logValue("live view started", "relay"); got != "true" {
		t.Errorf("node2's start line: relay=%s, want the relay's view", got)
	}
	b.console.check(t)
	if !t.Failed() {
		return
	}
	for i, n := range nodes {
		for line := range strings.Lines(n.logs.String()) {
			if strings.Contains(line, "live view") || strings.Contains(line, "camera gained") || strings.Contains(line, "camera lost") || strings.Contains(line, "recording") {
				t.Logf("node%d: %s", i, strings.TrimSpace(line))
			}
		}
	}
}
