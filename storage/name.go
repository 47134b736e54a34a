package storage

import "fmt"

// ValidCamera reports whether name may be used as a camera name: 1 to 64
// characters from [A-Za-z0-9._-], starting with a letter or digit, and not
// the reserved word "archive". Names from the wire pass here before they
// become path elements.
func ValidCamera(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: length %d not in 1..64", ErrInvalidCamera, len(name))
	}
	if name == "archive" {
		return fmt.Errorf("%w: %q is reserved", ErrInvalidCamera, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return fmt.Errorf("%w: character %d is not allowed", ErrInvalidCamera, i)
	}
	return nil
}
