package main

import (
	"context"
	"fmt"
	"io"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: want a benchmark name: push, play or pull")
	}
	switch args[0] {
	case "push":
		return runBenchPush(ctx, args[1:], stdout, stderr)
	case "play":
		return runBenchPlay(ctx, args[1:], stdout, stderr)
	case "pull":
		return runBenchPull(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}
