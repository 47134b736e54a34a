package media_test

import (
	"testing"

	"github.com/camvault/camvault/media"
)

func TestCodecString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		codec media.Codec
		want  string
	}{
		{"zero value", media.CodecUnknown, "Unknown"},
		{"h264", media.CodecH264, "H264"},
		{"h265", media.CodecH265, "H265"},
		{"aac", media.CodecAAC, "AAC"},
		{"opus", media.CodecOpus, "Opus"},
		{"pcmu", media.CodecPCMU, "PCMU"},
		{"pcma", media.CodecPCMA, "PCMA"},
		{"mjpeg", media.CodecMJPEG, "MJPEG"},
		{"out of range", media.Codec(200), "Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.codec.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
