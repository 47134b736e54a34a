package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Run runs `camvault bench`; args are the arguments after "bench": the
// benchmark (push, play, pull or live) and its flags. Results go to stdout, flag
// errors and usage to stderr. It returns an error when the benchmark could
// not run or when frames were lost.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench: want a benchmark name: push, play, pull or live")
	}
	switch args[0] {
	case "push":
		return runPush(ctx, args[1:], stdout, stderr)
	case "play":
		return runPlay(ctx, args[1:], stdout, stderr)
	case "pull":
		return runPull(ctx, args[1:], stdout, stderr)
	case "live":
		return runLive(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

// maxCount bounds each value of -n.
const maxCount = 5000

// parseCounts parses -n: a comma-separated list of session counts.
func parseCounts(list string) ([]int, error) {
	var counts []int
	for s := range strings.SplitSeq(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 || v > maxCount {
			return nil, fmt.Errorf("bench: -n %q: want counts in 1..%d", s, maxCount)
		}
		counts = append(counts, v)
	}
	return counts, nil
}

// printProblems prints what went wrong in a round below its row.
func printProblems(w io.Writer, problems []string) {
	for _, p := range problems {
		fmt.Fprintln(w, "  problem:", p)
	}
}

// sleepUntil waits until t or until ctx is done, and returns ctx.Err().
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
