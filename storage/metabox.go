package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/camvault/camvault/storage/fmp4"
)

// metaUUID identifies camvault's segment metadata box, a top-level uuid box
// written after moov. Players skip it.
var metaUUID = [16]byte{0x63, 0x61, 0x6d, 0x76, 0x61, 0x75, 0x6c, 0x74, 0x2d, 0x73, 0x65, 0x67, 0x6d, 0x65, 0x6e, 0x74}

// metaVersion is the box layout without a revision; metaVersionRev adds
// one. A segment of revision 0 gets a version 1 box, byte for byte as
// before revisions existed.
const (
	metaVersion    = 1
	metaVersionRev = 2
)

// segmentMeta is what a segment file says about itself beyond its moov.
type segmentMeta struct {
	Start    time.Time // exact wall-clock start (the index key)
	Camera   string
	RefTrack uint32 // track whose prft times define fragment times
	Revision int64  // fencing revision (0: no cluster)
}

// appendMetaBox encodes the metadata box:
//
//	size(4) "uuid" uuid(16) version(1) start(8, ns BE) ref(4) camlen(1) camera
//	[version 2: revision(8, BE)]
func appendMetaBox(dst []byte, m segmentMeta) []byte {
	size := 8 + 16 + 1 + 8 + 4 + 1 + len(m.Camera)
	ver := byte(metaVersion)
	if m.Revision != 0 {
		size, ver = size+8, metaVersionRev
	}
	dst = fmp4.AppendBoxHeader(dst, size, "uuid")
	dst = append(dst, metaUUID[:]...)
	dst = append(dst, ver)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Start.UnixNano()))
	dst = binary.BigEndian.AppendUint32(dst, m.RefTrack)
	dst = append(dst, byte(len(m.Camera)))
	dst = append(dst, m.Camera...)
	if ver == metaVersionRev {
		dst = binary.BigEndian.AppendUint64(dst, uint64(m.Revision))
	}
	return dst
}

// parseMetaBox decodes the payload of a uuid box (after its 8-byte header).
// ok is false when the box is some other uuid box.
func parseMetaBox(p []byte) (m segmentMeta, ok bool, err error) {
	if len(p) < 16 || !bytes.Equal(p[:16], metaUUID[:]) {
		return m, false, nil
	}
	p = p[16:]
	if len(p) < 14 || p[0] != metaVersion && p[0] != metaVersionRev {
		return m, true, fmt.Errorf("%w: metadata box", ErrCorrupt)
	}
	ver := p[0]
	m.Start = time.Unix(0, int64(binary.BigEndian.Uint64(p[1:9]))).UTC()
	m.RefTrack = binary.BigEndian.Uint32(p[9:13])
	n := int(p[13])
	if len(p) < 14+n {
		return m, true, fmt.Errorf("%w: metadata box camera name", ErrCorrupt)
	}
	m.Camera = string(p[14 : 14+n])
	if ver == metaVersionRev {
		if len(p) < 14+n+8 {
			return m, true, fmt.Errorf("%w: metadata box revision", ErrCorrupt)
		}
		m.Revision = int64(binary.BigEndian.Uint64(p[14+n:]))
	}
	return m, true, nil
}
