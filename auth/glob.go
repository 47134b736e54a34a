package auth

import (
	"fmt"
	"path"
	"strings"
)

// maxGlobLen bounds a camera glob; camera names are at most 64 bytes.
const maxGlobLen = 128

// parseGlob checks a camera glob: path.Match syntax (* ? [a-z] and \
// escapes), no '/', at most maxGlobLen bytes. "*" matches every camera.
func parseGlob(g string) error {
	switch {
	case g == "":
		return fmt.Errorf("%w: empty", ErrGlob)
	case len(g) > maxGlobLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrGlob, maxGlobLen)
	case strings.ContainsRune(g, '/'):
		return fmt.Errorf("%w %q: camera names have no '/'", ErrGlob, g)
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("%w %q: %w", ErrGlob, g, err)
	}
	return nil
}

// matchGlob reports whether camera matches the checked glob g.
func matchGlob(g, camera string) bool {
	ok, err := path.Match(g, camera)
	return ok && err == nil
}
