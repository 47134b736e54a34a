// Package mediatest holds codec fixtures that tests of several packages
// share: parameter sets of real encoders. It is imported by tests only
// (cmd/camvault's TestNoProductImportsTestHelper keeps it so).
package mediatest

import "encoding/base64"

// Parameter sets, base64 as in an SDP's sprop-parameter-sets. H264SPSBase64
// and H264PPSBase64 are those of the RTSP.md §14.1 reference SDP (x264 High
// 3.1, 1280x720); the H.265 ones come from a 320x240 libx265 clip (Main
// 4:4:4, general_profile_idc 4).
const (
	H264SPSBase64 = "Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA="
	H264PPSBase64 = "aOvjyyLA"
)

// The parameter sets decoded. H264SPS2 and H264PPS2 are another encoder's
// (Baseline 3.0, 640x480), for parameter-change tests. Tests must not
// change them.
var (
	H264SPS  = mustB64(H264SPSBase64)
	H264PPS  = mustB64(H264PPSBase64)
	H265VPS  = mustB64("QAEMAf//BAgAAAMAnggAAAMAADyVmAk=")
	H265SPS  = mustB64("QgEBBAgAAAMAnggAAAMAADyQAUEB4ssrNJJleAtwICAAQAAAAwBAAAAGQg==")
	H265PPS  = mustB64("RAHBcoYMRiQ=")
	H264SPS2 = mustB64("Z0LAHtkAoD2wEQAAAwABAAADADIPFi5I")
	H264PPS2 = mustB64("aMuDyyA=")
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
