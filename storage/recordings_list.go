package storage

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// lostFound is what fsck leaves at the top of a file system; recordings/
// is often one.
const lostFound = "lost+found"

// stray is an entry under recordings/ that is not a camera directory, day
// directory or segment file. Strays are reported, never touched.
type stray struct {
	path, why string
}

func (st stray) String() string { return st.path + ": " + st.why }

// listCameraDirs lists the camera directories under recordings/, sorted.
// The ID file and lost+found are passed over; other entries are strays. A
// missing recordings/ lists nothing.
func listCameraDirs(root *os.Root) (cams []string, strays []stray, err error) {
	ents, err := readDirEntries(root, recordingsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case name == idFile || name == idTemp || name == holdsFile || name == holdsTemp || name == lostFound:
		case !e.IsDir():
			strays = append(strays, stray{path.Join(recordingsDir, name), "not a camera directory"})
		case ValidCamera(name) != nil:
			strays = append(strays, stray{path.Join(recordingsDir, name), "not a camera name"})
		default:
			cams = append(cams, name)
		}
	}
	return cams, strays, nil
}

// cameraListing is what recordings/{camera}/ holds.
type cameraListing struct {
	// files are the segment files, sorted, as paths relative to the data
	// directory.
	files []string
	// names holds the paths of everything found in listed directories, and
	// dirs the directories that were listed completely.
	names map[string]struct{}
	dirs  map[string]struct{}
	// absent reports that the camera directory does not exist.
	absent bool
	// strays are entries that are not day directories or segment files.
	strays []stray
}

// listCamera lists recordings/{camera}/{day}/. A missing camera directory,
// or an invalid camera name, lists nothing. An error means a directory could not be listed: the
// listing is then incomplete.
func listCamera(root *os.Root, camera string) (*cameraListing, error) {
	l := &cameraListing{names: make(map[string]struct{}), dirs: make(map[string]struct{})}
	if ValidCamera(camera) != nil {
		return l, nil // a damaged index's name: never a path
	}
	camDir := path.Join(recordingsDir, camera)
	days, err := readDirEntries(root, camDir)
	if errors.Is(err, fs.ErrNotExist) {
		l.absent = true
		return l, nil
	}
	if err != nil {
		return l, err
	}
	l.dirs[camDir] = struct{}{}
	for _, d := range days {
		dayDir := path.Join(camDir, d.Name())
		l.names[dayDir] = struct{}{}
		if _, perr := time.Parse(dayLayout, d.Name()); !d.IsDir() || perr != nil {
			l.addStray(dayDir, "not a day directory")
			continue
		}
		ents, err := readDirEntries(root, dayDir)
		if err != nil {
			return l, err
		}
		l.dirs[dayDir] = struct{}{}
		for _, e := range ents {
			rel := path.Join(dayDir, e.Name())
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), segmentExt) {
				l.addStray(rel, "not a segment file")
				continue
			}
			if _, _, err := parseSegmentPath(rel); err != nil {
				l.addStray(rel, err.Error())
				continue
			}
			l.files = append(l.files, rel)
			l.names[rel] = struct{}{}
		}
	}
	return l, nil
}

func (l *cameraListing) addStray(rel, why string) {
	l.strays = append(l.strays, stray{rel, why})
	l.names[rel] = struct{}{}
}

// exists reports whether file, a path in the camera's directory, is on
// disk: from the listing when it lies in a listed directory or in one that
// does not exist, else from Lstat.
func (l *cameraListing) exists(root *os.Root, file string) bool {
	if _, ok := l.names[file]; ok {
		return true
	}
	dir := path.Dir(file)
	if _, ok := l.dirs[dir]; ok || l.absent {
		return false
	}
	if _, ok := l.dirs[path.Dir(dir)]; ok {
		if _, found := l.names[dir]; !found {
			return false // its day directory is not there
		}
	}
	_, err := root.Lstat(file)
	return !errors.Is(err, fs.ErrNotExist)
}

// readDirEntries lists a directory under root, sorted by name. Entry types
// come from the directory itself: no stat per entry.
func readDirEntries(root *os.Root, rel string) ([]fs.DirEntry, error) {
	d, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, err
}
