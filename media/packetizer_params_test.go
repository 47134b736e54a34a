package media_test

import (
	"testing"

	"github.com/camvault/camvault/media"
)

// TestPacketizerParamsInBand checks that SetParamsInBand(false) leaves the
// SPS/PPS STAP-A out of key units and that turning it on brings it back.
func TestPacketizerParamsInBand(t *testing.T) {
	track := &media.Track{Codec: media.CodecH264, ClockRate: 90000, PayloadType: 96,
		SPS: []byte{0x67, 0x64, 0x00, 0x1f}, PPS: []byte{0x68, 0xeb}}
	pz, err := media.NewPacketizer(track, media.PacketizerConfig{PayloadType: 96})
	if err != nil {
		t.Fatal(err)
	}
	idr := []byte{0, 0, 0, 3, 0x65, 0x88, 0x84}
	count := func() (n int, stapA bool) {
		err := pz.Packetize(0, idr, true, func(pkt []byte) {
			n++
			stapA = stapA || pkt[12]&0x1f == 24
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, stapA
	}
	if n, stap := count(); n != 2 || !stap {
		t.Errorf("default: %d packets, STAP-A %v; want the parameter sets first", n, stap)
	}
	pz.SetParamsInBand(false)
	if n, stap := count(); n != 1 || stap {
		t.Errorf("in-band off: %d packets, STAP-A %v; want the IDR alone", n, stap)
	}
	pz.SetParamsInBand(true)
	if n, stap := count(); n != 2 || !stap {
		t.Errorf("in-band on again: %d packets, STAP-A %v", n, stap)
	}
}
