package cluster

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Member is a live node, as registered under {prefix}nodes/{name} (value: JSON of the
// tagged fields), attached to the node's lease.
type Member struct {
	Name     string    `json:"-"`
	RTSPURL  string    `json:"rtsp_url"`
	HTTPURL  string    `json:"http_url"`
	Capacity int       `json:"capacity"`
	Started  time.Time `json:"started"`
	// PeerToken is the bearer token the node's peer endpoints (package peer) accept from
	// the other nodes: random, made by the node at its start (Config.PeerToken). Whoever
	// reads etcd may read the recordings through it, as whoever writes etcd may claim
	// cameras: etcd is the cluster's trust root.
	PeerToken string `json:"peer_token,omitempty"`
}

// LogValue implements slog.LogValuer without the peer token.
func (m Member) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", m.Name), slog.String("http_url", m.HTTPURL))
}

// Owner is the owner of a camera, as recorded under {prefix}owners/{camera} (value: JSON
// of the tagged fields), attached to the owner's lease.
type Owner struct {
	Node    string `json:"node"`
	RTSPURL string `json:"rtsp_url"`
	HTTPURL string `json:"http_url"`
	// Revision is the etcd revision at which the ownership was claimed (the key's
	// ModRevision): the fencing token.
	Revision int64 `json:"-"`
}

// maxRecordBytes bounds a value read from etcd before it is decoded.
const maxRecordBytes = 4 << 10

// Key layout under the prefix. Keys stay O(cameras + nodes).
const (
	nodesDir  = "nodes/"
	ownersDir = "owners/"
)

// decodeMember decodes the value of a node key.
func decodeMember(name string, value []byte) (Member, error) {
	var m Member
	if err := decodeRecord(value, &m); err != nil {
		return Member{}, err
	}
	if m.Capacity < 1 {
		return Member{}, fmt.Errorf("node %s: capacity %d", name, m.Capacity)
	}
	m.Name = name
	return m, nil
}

// decodeOwner decodes the value of an owner key whose ModRevision is rev.
func decodeOwner(value []byte, rev int64) (Owner, error) {
	var o Owner
	if err := decodeRecord(value, &o); err != nil {
		return Owner{}, err
	}
	if err := validName(o.Node); err != nil {
		return Owner{}, fmt.Errorf("owner: %w", err)
	}
	o.Revision = rev
	return o, nil
}

// decodeRecord decodes a JSON value of at most maxRecordBytes into v. Unknown fields are
// allowed: a newer node may add some.
func decodeRecord(value []byte, v any) error {
	if len(value) > maxRecordBytes {
		return fmt.Errorf("record of %d bytes, more than %d", len(value), maxRecordBytes)
	}
	if err := json.Unmarshal(value, v); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}

// splitKey splits a key under prefix into its directory (nodesDir or ownersDir) and a
// valid name; ok is false for any other key.
func splitKey(prefix, key string) (dir, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", "", false
	}
	for _, d := range []string{nodesDir, ownersDir} {
		if name, ok := strings.CutPrefix(rest, d); ok && validName(name) == nil {
			return d, name, true
		}
	}
	return "", "", false
}

// encodeMember encodes this node's Member record.
func encodeMember(cfg Config, started time.Time) ([]byte, error) {
	return json.Marshal(Member{RTSPURL: cfg.RTSPURL, HTTPURL: cfg.HTTPURL, Capacity: cfg.Capacity, Started: started.UTC(),
		PeerToken: cfg.PeerToken})
}
