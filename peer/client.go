package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Node is another node as a Client reaches it: its HTTP URL and peer token, from its node
// record.
type Node struct {
	Name    string
	HTTPURL string
	Token   string
}

// Client reads other nodes' not-uploaded segments. Safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient builds a client; hc nil uses a client of its own (the default transport).
func NewClient(cfg Config, hc *http.Client) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// StatusError is a peer's answer other than 200.
type StatusError struct {
	Node   string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("peer: node %s answered %d", e.Node, e.Status)
}

// Segments returns camera's segments on n that are not in the object store and overlap
// [from, to), oldest first, each with its seek table and Bytes the end of its committed
// fragments; File and Upload are empty.
func (c *Client) Segments(ctx context.Context, n Node, camera string, from, to time.Time) ([]storage.SegmentInfo, error) {
	return c.segments(ctx, n, camera, from, to, true)
}

// segments is Segments, without the seek tables unless seek.
func (c *Client) segments(ctx context.Context, n Node, camera string, from, to time.Time, seek bool) ([]storage.SegmentInfo, error) {
	q := url.Values{"from": {strconv.FormatInt(from.UnixNano(), 10)}, "to": {strconv.FormatInt(to.UnixNano(), 10)}}
	if !seek {
		q.Set("fragments", "0")
	}
	b, err := c.get(ctx, n, segmentsPath+url.PathEscape(camera)+"?"+q.Encode(), c.cfg.MaxListingBytes)
	if err != nil {
		return nil, err
	}
	l, err := UnmarshalListing(b, camera, c.cfg.MaxSegments)
	if err != nil {
		return nil, fmt.Errorf("peer: listing of %s from node %s: %w", camera, n.Name, err)
	}
	return l.Segments, nil
}

// ReadAt returns size bytes at off of camera's segment on n that starts at start.
func (c *Client) ReadAt(ctx context.Context, n Node, camera string, start time.Time, off, size int64) ([]byte, error) {
	if size <= 0 || size > c.cfg.MaxReadBytes {
		return nil, fmt.Errorf("peer: read of %d bytes: not within 1 to %d", size, c.cfg.MaxReadBytes)
	}
	q := url.Values{"off": {strconv.FormatInt(off, 10)}, "n": {strconv.FormatInt(size, 10)}}
	b, err := c.get(ctx, n, readPath+url.PathEscape(camera)+"/"+strconv.FormatInt(start.UnixNano(), 10)+"?"+q.Encode(), size)
	if err == nil && int64(len(b)) != size {
		err = fmt.Errorf("peer: read from node %s: %d bytes, want %d", n.Name, len(b), size)
	}
	return b, err
}

// get does one GET of path on n and returns at most limit bytes of its body; a longer
// body is an error.
func (c *Client) get(ctx context.Context, n Node, path string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(n.HTTPURL, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("peer: node %s: %w", n.Name, err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("peer: node %s: %w", n.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
		return nil, &StatusError{Node: n.Name, Status: resp.StatusCode}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("peer: node %s: %w", n.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("peer: node %s: %w", n.Name, errTooLong)
	}
	return b, nil
}

// errTooLong says an answer was longer than its bound.
var errTooLong = errors.New("answer longer than its bound")
