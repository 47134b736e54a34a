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

const metaVersion = 1

// segmentMeta is what a segment file says about itself beyond its moov.
type segmentMeta struct {
	Start    time.Time // exact wall-clock start (the index key)
	Camera   string
	RefTrack uint32 // track whose prft times define fragment times
}

// appendMetaBox encodes the metadata box:
//
//	size(4) "uuid" uuid(16) version(1) start(8, ns BE) ref(4) camlen(1) camera
func appendMetaBox(dst []byte, m segmentMeta) []byte {
	size := 8 + 16 + 1 + 8 + 4 + 1 + len(m.Camera)
	dst = fmp4.AppendBoxHeader(dst, size, "uuid")
	dst = append(dst, metaUUID[:]...)
	dst = append(dst, metaVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Start.UnixNano()))
	dst = binary.BigEndian.AppendUint32(dst, m.RefTrack)
	dst = append(dst, byte(len(m.Camera)))
	return append(dst, m.Camera...)
}

// parseMetaBox decodes the payload of a uuid box (after its 8-byte header).
// ok is false when the box is some other uuid box.
func parseMetaBox(p []byte) (m segmentMeta, ok bool, err error) {
	if len(p) < 16 || !bytes.Equal(p[:16], metaUUID[:]) {
		return m, false, nil
	}
	p = p[16:]
	if len(p) < 14 || p[0] != metaVersion {
		return m, true, fmt.Errorf("%w: metadata box", ErrCorrupt)
	}
	m.Start = time.Unix(0, int64(binary.BigEndian.Uint64(p[1:9]))).UTC()
	m.RefTrack = binary.BigEndian.Uint32(p[9:13])
	n := int(p[13])
	if len(p) < 14+n {
		return m, true, fmt.Errorf("%w: metadata box camera name", ErrCorrupt)
	}
	m.Camera = string(p[14 : 14+n])
	return m, true, nil
}
