package tier

import (
	"fmt"
	"strings"
	"time"
)

// objectKey returns the key of a segment's object (see the package doc):
//
//	{prefix}{camera}/{YYYY-MM-DD}/{HH}/{HHMMSS.mmm}Z_{node}_r{rev}.mp4
func objectKey(prefix, camera string, start time.Time, node string, rev int64) string {
	start = start.UTC()
	return fmt.Sprintf("%s%s_%s_r%d.mp4", hourPrefix(prefix, camera, start), start.Format("150405.000Z"), node, rev)
}

// hourPrefix returns the key prefix of camera's hour that holds t:
// {prefix}{camera}/{YYYY-MM-DD}/{HH}/.
func hourPrefix(prefix, camera string, t time.Time) string {
	return prefix + camera + "/" + t.UTC().Format("2006-01-02/15") + "/"
}

// manifestKey returns the key of node's manifest of camera's hour that
// holds t: {hour prefix}manifest_{node}.json.
func manifestKey(prefix, camera string, t time.Time, node string) string {
	return hourPrefix(prefix, camera, t) + manifestPrefix + node + ".json"
}

// manifestPrefix starts every manifest's name; no segment object's name
// does (they start with a digit).
const manifestPrefix = "manifest_"

// cameraPrefix returns the key prefix of all of camera's objects.
func cameraPrefix(prefix, camera string) string { return prefix + camera + "/" }

// hourOf parses the hour of an hour prefix, or reports false.
func hourOf(cameraPrefix, hourPrefix string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(hourPrefix, cameraPrefix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02/15/", rest)
	return t, err == nil
}
