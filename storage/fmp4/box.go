package fmp4

import "encoding/binary"

// BoxType is a box type as a big-endian number of its four characters, so
// that comparing types needs no string.
type BoxType uint32

// The box types camvault's segment files hold at the top level and in a moof.
const (
	TypeFtyp BoxType = 'f'<<24 | 't'<<16 | 'y'<<8 | 'p'
	TypeMoov BoxType = 'm'<<24 | 'o'<<16 | 'o'<<8 | 'v'
	TypeUUID BoxType = 'u'<<24 | 'u'<<16 | 'i'<<8 | 'd'
	TypeFree BoxType = 'f'<<24 | 'r'<<16 | 'e'<<8 | 'e'
	TypeSkip BoxType = 's'<<24 | 'k'<<16 | 'i'<<8 | 'p'
	TypePrft BoxType = 'p'<<24 | 'r'<<16 | 'f'<<8 | 't'
	TypeMoof BoxType = 'm'<<24 | 'o'<<16 | 'o'<<8 | 'f'
	TypeMdat BoxType = 'm'<<24 | 'd'<<16 | 'a'<<8 | 't'
	TypeTraf BoxType = 't'<<24 | 'r'<<16 | 'a'<<8 | 'f'
	TypeTfhd BoxType = 't'<<24 | 'f'<<16 | 'h'<<8 | 'd'
	TypeTfdt BoxType = 't'<<24 | 'f'<<16 | 'd'<<8 | 't'
	TypeTrun BoxType = 't'<<24 | 'r'<<16 | 'u'<<8 | 'n'
)

// String returns the four characters.
func (t BoxType) String() string {
	return string([]byte{byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)})
}

// MaxHeaderLen is the longest box header: size, type and a 64-bit largesize.
const MaxHeaderLen = 16

// DecodeHeader decodes the box header at the start of b:
//
//	size(4) type(4) [largesize(8) when size == 1]
//
// It returns the type, the box size including the header (0 means "to the
// end of the enclosing space", left for the caller to resolve) and the
// header's length, 8 or 16. ok is false when b is shorter than the header.
// The size is not checked against anything: that is the caller's bound.
func DecodeHeader(b []byte) (typ BoxType, size uint64, hdrLen int, ok bool) {
	if len(b) < 8 {
		return 0, 0, 0, false
	}
	size, typ = uint64(binary.BigEndian.Uint32(b)), BoxType(binary.BigEndian.Uint32(b[4:8]))
	if size != 1 {
		return typ, size, 8, true
	}
	if len(b) < 16 {
		return typ, 0, 0, false
	}
	return typ, binary.BigEndian.Uint64(b[8:16]), 16, true
}

// AppendBoxHeader appends a compact (32-bit size) box header: size is the
// whole box's length including these 8 bytes.
func AppendBoxHeader(dst []byte, size int, typ string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	return append(dst, typ...)
}
