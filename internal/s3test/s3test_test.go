//go:build interop

package s3test_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/camvault/camvault/internal/s3test"
)

// TestStopStart: an object written before a Stop is there after Start,
// and the server refuses connections while stopped.
func TestStopStart(t *testing.T) {
	s := s3test.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := s.Client()
	body := []byte("kept across a restart")
	if _, err := c.PutObject(ctx, s3test.Bucket, "a/b", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	if _, err := c.StatObject(short, s3test.Bucket, "a/b", minio.StatObjectOptions{}); err == nil {
		t.Error("a stopped server answered")
	}
	cancelShort()
	s.Start()
	obj, err := c.GetObject(ctx, s3test.Bucket, "a/b", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("after restart: %q, %v", got, err)
	}
}

func TestMain(m *testing.M) { s3test.Main(m) }

// TestShared: two callers get the same server, which serves objects.
func TestShared(t *testing.T) {
	s := s3test.Shared(t)
	if again := s3test.Shared(t); again != s {
		t.Fatal("a second Shared started another server")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	body := []byte("shared")
	c := s.Client()
	if _, err := c.PutObject(ctx, s3test.Bucket, "shared/x", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, s3test.Bucket, "shared/x", minio.StatObjectOptions{})
	if err != nil || st.Size != int64(len(body)) {
		t.Fatalf("stat: %+v, %v", st, err)
	}
}
