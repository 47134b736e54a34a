package weed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Bounds of WaitReady.
const (
	// ProbeTimeout bounds one probe.
	ProbeTimeout = 5 * time.Second
	// ProbeEvery is the pause between probes.
	ProbeEvery = 100 * time.Millisecond
)

// WaitReady probes the server of c until it stores an object in bucket
// (made, in region, when missing), ctx ends or exited is closed (the
// process ended): the S3 port answering is not enough, the volume server
// must have joined. It returns the last probe's error when it gives up.
func WaitReady(ctx context.Context, c *minio.Client, bucket, region string, exited <-chan struct{}) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
		err := probe(pctx, c, bucket, region)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("weed exited before it was ready: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("weed not ready: %w", err)
		case <-time.After(ProbeEvery):
		}
	}
}

// probe makes bucket if it is missing, and writes and removes an object
// in it.
func probe(ctx context.Context, c *minio.Client, bucket, region string) error {
	ok, err := c.BucketExists(ctx, bucket)
	if err == nil && !ok {
		err = c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: region})
	}
	if err != nil {
		return err
	}
	if _, err := c.PutObject(ctx, bucket, "probe", strings.NewReader("ok"), 2, minio.PutObjectOptions{}); err != nil {
		return err
	}
	return c.RemoveObject(ctx, bucket, "probe", minio.RemoveObjectOptions{})
}
