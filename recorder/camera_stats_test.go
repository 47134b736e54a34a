package recorder_test

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/media"
	"github.com/camvault/camvault/recorder"
	"github.com/camvault/camvault/storage"
)

// sentBytes returns the RTP payload bytes push sends for frames video frames (pad 0, a
// keyframe every 25) and afr AAC frames.
func sentBytes(frames, afr int) (packets, bytes uint64) {
	keys := uint64((frames + 24) / 25)
	packets = uint64(frames) + 2*keys + uint64(afr)
	bytes = uint64(frames)*6 + keys*uint64(len(testSPS)+len(testPPS)) + uint64(afr)*10
	return packets, bytes
}

// cameraStats returns the Recorder's stats of camera "cam" and checks it is the only camera.
func cameraStats(t *testing.T, r *recorder.Recorder) recorder.CameraStats {
	t.Helper()
	all := r.CameraStats()
	if len(all) != 1 || all[0].Camera != "cam" {
		t.Fatalf("CameraStats %+v, want camera cam alone", all)
	}
	one, ok := r.Camera("cam")
	if !ok || !slices.Equal(one.Tracks, all[0].Tracks) || one.Frames != all[0].Frames {
		t.Fatalf("Camera(cam) = %+v, %v; CameraStats has %+v", one, ok, all[0])
	}
	return all[0]
}

func TestCameraStatsCountsWhatWasRecorded(t *testing.T) {
	h := newHarness(t, recorder.Config{})
	if _, ok := h.rec.Camera("cam"); ok || len(h.rec.CameraStats()) != 0 {
		t.Fatal("a camera that never recorded has stats")
	}
	opened := h.clock.now
	rec, err := h.rec.Open("cam", []*media.Track{h264Track(), aacTrack()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video := &sender{pt: 96, ssrc: 1}
	audio := &sender{pt: 97, ssrc: 2}
	frames, afr := h.push(rec, video, audio, 3, false)

	// Active: frames 25 and 50 flushed two fragments of 25 frames.
	st := cameraStats(t, h.rec)
	own, _ := rec.Stats()
	if !st.Active || !st.Since.Equal(opened) || st.Fragments != 2 || st.Frames != 50 || st.Segments != 1 ||
		st.FragmentBytes != own.Bytes || st.StorageError {
		t.Errorf("while recording: %+v; want active since %v, 2 fragments, 50 frames, %d bytes",
			st, opened, own.Bytes)
	}
	if want := []string{"H264 1280x720", "AAC 48000/2"}; !slices.Equal(st.Tracks, want) {
		t.Errorf("tracks %q, want %q", st.Tracks, want)
	}
	// Bitrate: the fragment bytes since the recording opened, over the time since then.
	if want := float64(own.Bytes) * 8 / h.clock.now.Sub(opened).Seconds(); st.Bitrate != want {
		t.Errorf("bitrate %v, want %v", st.Bitrate, want)
	}
	if want := opened.Add(2 * time.Second); st.LastFragment.Sub(want).Abs() > time.Millisecond {
		t.Errorf("last fragment ends %v, want %v", st.LastFragment, want)
	}

	// 7 s more, continuing the timestamps.
	h.clock.now = h.clock.now.Add(40 * time.Millisecond)
	video.base += uint32(frames * 3600)
	audio.base += uint32(afr * 1024)
	frames2, afr2 := h.push(rec, video, audio, 7, false)
	frames, afr = frames+frames2, afr+afr2
	rec.Close()
	rec.Wait()
	st = cameraStats(t, h.rec)
	own, _ = rec.Stats()
	packets, bytes := sentBytes(frames, afr)
	_, files := h.readSegments("cam")
	if st.Active || !st.Since.IsZero() || st.Fragments != 10 || st.FragmentBytes != own.Bytes ||
		st.Frames != uint64(frameCount(t, files)) || st.Frames != uint64(frames) {
		t.Errorf("ended: %+v; want inactive, 10 fragments, %d frames, %d bytes", st, frames, own.Bytes)
	}
	if st.Packets != packets || st.Bytes != bytes || st.Lost != 0 || st.Late != 0 || st.Dropped != 0 {
		t.Errorf("packets %d (%d bytes), lost %d, late %d, dropped %d; want %d (%d bytes) and no losses",
			st.Packets, st.Bytes, st.Lost, st.Late, st.Dropped, packets, bytes)
	}
	if c := h.store.Counters("cam"); c.FragmentsWritten != st.Fragments {
		t.Errorf("storage wrote %d fragments, the recorder says %d", c.FragmentsWritten, st.Fragments)
	}
	h.clock.now = h.clock.now.Add(time.Minute)
	if st := cameraStats(t, h.rec); st.Bitrate != 0 {
		t.Errorf("bitrate %v a minute after the recording ended, want 0", st.Bitrate)
	}
	h.close()
}

// TestCameraStatsSumRecordings records a camera twice, the second time with loss, a late
// duplicate and packets to drop: the totals add up, and the frames counted are those in the
// files.
func TestCameraStatsSumRecordings(t *testing.T) {
	h, rec, _ := openLogged(t, recorder.Config{})
	video := &sender{pt: 96, ssrc: 7}
	frames1, _ := h.push(rec, video, nil, 2, false)
	rec.Close()
	rec.Wait()
	first := cameraStats(t, h.rec)

	rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video.base += 1 << 20
	h.pushOn(rec, video, 0, 30)
	video.seq += 3 // three packets lost: the track waits for the next keyframe (frame 50)
	h.pushOn(rec, video, 30, 40)
	last := video.h264Frame(uint32(40*3600), false, 40)[0]
	rec.WriteRTP(0, last)
	rec.WriteRTP(0, last)                                                 // a duplicate: late
	rec.WriteRTP(0, (&sender{pt: 0, ssrc: 7}).packet(0, true, []byte{1})) // wrong payload type
	rec.WriteRTP(0, []byte{0x80})                                         // not RTP
	h.pushOn(rec, video, 41, 75)
	rec.Close()
	rec.Wait()

	st := cameraStats(t, h.rec)
	infos, files := h.readSegments("cam")
	recorded := uint64(frameCount(t, files))
	if st.Frames != recorded || st.Frames != uint64(frames1)+30+25 {
		t.Errorf("%d frames counted, %d in the files, want %d", st.Frames, recorded, frames1+30+25)
	}
	// The second recording sent frames 0-74 less 3 lost packets, a duplicate of frame 40, one
	// packet of a wrong payload type and bytes that are not RTP.
	if p, _ := sentBytes(frames1, 0); first.Packets != p {
		t.Errorf("first recording: %d packets, want %d", first.Packets, p)
	}
	packets, _ := sentBytes(75, 0)
	packets += first.Packets + 3
	if st.Packets != packets || st.Lost != 3 || st.Late != 1 || st.Dropped != 2 {
		t.Errorf("packets %d, lost %d, late %d, dropped %d; want %d, 3, 1, 2",
			st.Packets, st.Lost, st.Late, st.Dropped, packets)
	}
	fragments := 0
	for _, info := range infos {
		fragments += len(info.Fragments)
	}
	if len(infos) != 2 || st.Segments != 2 || st.Fragments != uint64(fragments) || fragments != 5 {
		t.Errorf("%d segments, %d fragments; want 2 segments and the 5 fragments in the files",
			st.Segments, st.Fragments)
	}
}

// TestCameraStatsDoNotWaitForBackpressure holds the storage writer while a recording fed over
// TCP waits in WriteRTP for room in the full write queue (as TestBackpressure does): a reader
// of the stats gets them at once, while the writer is still blocked, with what the recording
// published before it blocked. (A CameraStats that took the recording's lock would wait for
// the stalled writer, and the bubble's clock could not advance: the test would hang until
// the test binary's timeout.)
func TestCameraStatsDoNotWaitForBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := &storage.FaultPlan{}
		h := newHarnessStore(t, recorder.Config{BackpressureWait: time.Minute},
			storage.Config{Sync: storage.SyncNone, WriteQueue: 1, Writers: 1, Faults: plan})
		rec, err := h.rec.Open("cam", []*media.Track{h264Track()}, recorder.OpenOptions{Backpressure: true})
		if err != nil {
			t.Fatal(err)
		}
		video := &sender{pt: 96, ssrc: 1}
		t0 := h.clock.now
		h.pushFrames(rec, video, t0, 0, 50)
		hold := make(chan struct{})
		resume := sync.OnceFunc(func() { close(hold) })
		t.Cleanup(func() { resume(); h.close() })
		plan.Add(storage.FaultRule{Op: storage.FileWrite, Camera: "cam", Hold: hold})
		h.pushFrames(rec, video, t0, 50, 100)

		done := make(chan struct{})
		go func() {
			defer close(done)
			h.clock.now = t0.Add(100 * 40 * time.Millisecond)
			for _, p := range video.h264Frame(100*3600, true, 100) {
				rec.WriteRTP(0, p) // frame 100 flushes fragment 4 into the full queue: it waits
			}
		}()
		synctest.Wait() // the writer is blocked in WriteRTP, holding the recording's lock
		st := cameraStats(t, h.rec)
		select {
		case <-done:
			t.Fatal("WriteRTP returned while storage was stalled")
		default:
		}
		if !st.Active || st.Fragments != 3 || st.Frames != 75 {
			t.Errorf("stats %+v while held back, want active with 3 fragments of 75 frames", st)
		}
		resume()
		<-done
		rec.Close()
		rec.Wait()
		if st := cameraStats(t, h.rec); st.Fragments != 5 || st.Frames != 101 || st.FragmentsDropped != 0 {
			t.Errorf("stats %+v after the stall, want 5 fragments of 101 frames, none dropped", st)
		}
	})
}
