package storage

import "fmt"

// ReservedCamera is the first path element of archive URLs
// (rtsp://HOST/archive/{camera}, DESIGN.md "Names and URLs"), so no camera
// may be named so. URL paths are case-sensitive: "Archive" is an ordinary
// camera name.
const ReservedCamera = "archive"

// ValidCamera reports whether name may be used as a camera name: 1 to 64
// characters from [A-Za-z0-9._-], starting with a letter or digit, and not
// ReservedCamera. Names from the wire and from the configuration file pass
// here before they become path elements.
func ValidCamera(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: length %d not in 1..64", ErrInvalidCamera, len(name))
	}
	if name == ReservedCamera {
		return fmt.Errorf("%w: %q is reserved for archive URLs", ErrInvalidCamera, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return fmt.Errorf("%w %q: character %d is not one of A-Z a-z 0-9 . _ - (nor . _ - first)", ErrInvalidCamera, name, i)
	}
	return nil
}
