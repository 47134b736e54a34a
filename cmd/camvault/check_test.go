package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/camvault/camvault/storage"
	"github.com/camvault/camvault/storage/fmp4"
)

// recordDataDir records two sealed one-fragment segments of camera "cam"
// and returns their files.
func recordDataDir(t *testing.T, dir string) []string {
	t.Helper()
	init := mp4.CreateEmptyInit()
	if err := init.AddEmptyTrack(48000, "audio", "und").SetAACDescriptor(aac.AAClc, 48000); err != nil {
		t.Fatal(err)
	}
	var ib bytes.Buffer
	if err := init.Encode(&ib); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Open(storage.Config{Dir: dir, Sync: storage.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var files []string
	for i := range 2 {
		at := start.Add(time.Duration(i) * time.Minute)
		seg, err := st.Create("cam", at, 1, ib.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		buf := st.Buffer()
		*buf = fmp4.AppendFragment(*buf, 1, 0, at, []fmp4.TrackFragment{{TrackID: 1,
			Samples: []fmp4.Sample{{Duration: 1024, Size: 3, Key: true}}, Data: []byte{1, 2, 3}}})
		if err := seg.Append(storage.FragmentInfo{Start: at, Duration: time.Second * 1024 / 48000, Key: true}, buf); err != nil {
			t.Fatal(err)
		}
		seg.Seal()
		<-seg.Done()
		if err := seg.Err(); err != nil {
			t.Fatal(err)
		}
		files = append(files, seg.Info(false).File)
	}
	return files
}

func TestCheckExitStatus(t *testing.T) {
	dir := t.TempDir()
	files := recordDataDir(t, dir)
	conf := filepath.Join(t.TempDir(), "camvault.yaml")
	if err := os.WriteFile(conf, []byte("storage:\n  index_timeout: 100ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(args ...string) (int, string) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"check", "-data", dir, "-config", conf}, args...), &out, io.Discard)
		if code := exitCode(err); code != 0 {
			out.WriteString("error: " + err.Error())
		}
		return exitCode(err), out.String()
	}
	steps := []struct {
		name   string
		before func()
		args   []string
		code   int
		says   string
	}{
		{"clean", nil, nil, 0, "checked 2 segments (2 fragments) and 2 files"},
		{"missing file", func() {
			if err := os.Remove(filepath.Join(dir, files[1])); err != nil {
				t.Fatal(err)
			}
		}, nil, 1, "missing-file cam " + files[1] + ": the file is gone"},
		{"repair", nil, []string{"-repair"}, 0, "1 problems, 1 fixed"},
		{"clean after repair", nil, nil, 0, "checked 1 segments (1 fragments) and 1 files"},
		{"bad flag", nil, []string{"-frobnicate"}, 2, "flag provided but not defined"},
		{"help", nil, []string{"-h"}, 0, ""},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		code, out := check(s.args...)
		if code != s.code || !strings.Contains(out, s.says) {
			t.Errorf("%s: exit status %d, want %d; output:\n%s", s.name, code, s.code, out)
		}
	}
	// A running camvault holds the index: the check cannot run.
	st, err := storage.Open(storage.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if code, out := check(); code != 2 || !strings.Contains(out, "stop camvault first") {
		t.Errorf("check of a running data directory: exit status %d:\n%s", code, out)
	}
}

// TestServeRefusesWrongDataDir: serve fails with storage's message, as is,
// when index.db and recordings/ belong to different data directories.
func TestServeRefusesWrongDataDir(t *testing.T) {
	dir := t.TempDir()
	recordDataDir(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "recordings", ".camvault-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, want := storage.Open(storage.Config{Dir: dir})
	if !errors.Is(want, storage.ErrWrongDataDir) {
		t.Fatalf("storage.Open: %v", want)
	}
	err := run(context.Background(), []string{"serve", "-data", dir, "-rtsp", "127.0.0.1:0", "-http", "127.0.0.1:0"}, io.Discard, io.Discard)
	if err == nil || err.Error() != want.Error() || exitCode(err) != 1 {
		t.Errorf("serve: %v (exit status %d), want %v", err, exitCode(err), want)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{flag.ErrHelp, 0},
		{errors.New("x"), 1},
		{&exitStatusError{exitError, errors.New("x")}, 2},
		{&exitStatusError{exitProblems, errors.New("x")}, 1},
		{&exitStatusError{exitError, flag.ErrHelp}, 0},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
