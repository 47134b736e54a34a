package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage"
)

// countRecorded counts the video frames recorded per camera in the data
// directory data and checks that each camera has a recording of want
// frames that starts with a keyframe, in one segment unless split (short
// segments); it returns the total and problems with what it found
// appended.
func countRecorded(data string, cameras []string, want int, split bool, problems []string) (int, []string) {
	st, err := storage.Open(storage.Config{Dir: data})
	if err != nil {
		return 0, append(problems, err.Error())
	}
	defer st.Close()
	total := 0
	for _, camera := range cameras {
		segs, err := st.Segments(camera, time.Time{}, time.Time{}, false)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		frames := 0
		for i, seg := range segs {
			n, key, err := countVideoSamples(filepath.Join(data, seg.File))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", seg.File, err))
			}
			if i == 0 && !key {
				problems = append(problems, camera+": recording does not start with a keyframe")
			}
			frames += n
		}
		if len(segs) != 1 && !split {
			problems = append(problems, fmt.Sprintf("%s: recorded in %d segments, want 1", camera, len(segs)))
		}
		if frames != want {
			problems = append(problems, fmt.Sprintf("%s: %d of %d frames recorded in %d segments", camera, frames, want, len(segs)))
		}
		total += frames
	}
	return total, problems
}

// firstSegmentFrames counts the video frames of each camera's first
// segment (a pull replays the archive again after its end), at most want
// per camera.
func firstSegmentFrames(data string, cameras []string, want int, problems []string) (int, []string) {
	st, err := storage.Open(storage.Config{Dir: data})
	if err != nil {
		return 0, append(problems, err.Error())
	}
	defer st.Close()
	total := 0
	for _, name := range cameras {
		segs, err := st.Segments(name, time.Time{}, time.Time{}, false)
		if err != nil || len(segs) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no recording (%v)", name, err))
			continue
		}
		frames, key, err := countVideoSamples(filepath.Join(data, segs[0].File))
		if err != nil || !key || frames < want {
			problems = append(problems, fmt.Sprintf("%s: %d of %d frames (keyframe first: %v, %v)", name, frames, want, key, err))
		}
		total += min(frames, want)
	}
	return total, problems
}

// countVideoSamples counts track 1's samples in a segment file and reports
// whether the first one is a sync sample.
func countVideoSamples(path string) (int, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	mf, err := mp4.DecodeFile(f, mp4.WithDecodeMode(mp4.DecModeLazyMdat))
	if err != nil {
		return 0, false, err
	}
	n, firstKey := 0, false
	for _, seg := range mf.Segments {
		for _, frag := range seg.Fragments {
			for _, traf := range frag.Moof.Trafs {
				if traf.Tfhd.TrackID != 1 {
					continue
				}
				for _, s := range traf.Trun.Samples {
					if n == 0 {
						firstKey = !mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync
					}
					n++
				}
			}
		}
	}
	return n, firstKey, nil
}
