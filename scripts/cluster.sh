#!/usr/bin/env bash
# scripts/cluster.sh: a camvault cluster on one machine, for trying the cluster and for tests.
#
#   bash scripts/cluster.sh start [CAMERAS]   # etcd, an S3 server (SeaweedFS weed), CAMERAS
#                                             # simulated cameras (default 6) and three camvault
#                                             # nodes, all on 127.0.0.1; prints the URLs
#   bash scripts/cluster.sh status            # which node records which camera (from the logs)
#   bash scripts/cluster.sh stop              # stops everything it started, by PID, newest first
#
# Environment: CLUSTER_DIR (default /tmp/camvault-cluster) holds the data, logs, configs and PIDs;
# CLUSTER_PORT (default 24000) is the first of the ports used (about 40 after it).
# Needs: go, etcd (Debian etcd-server), ffmpeg is not needed; python3-gi with
# gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-ugly (the cameras); weed (built by
# scripts/test.sh into ~/.cache/camvault/weed-VERSION/weed, or CAMVAULT_WEED).
#
# The nodes pull the cameras; the cluster shares them out (rendezvous hashing) and each is
# recorded by one node. Segments are sealed every 10 s and uploaded to the bucket "camvault".
# Kill a node (kill -9 $(cat $CLUSTER_DIR/node1.pid)) and watch its cameras move within the
# lease TTL (5 s here) + 5 s; play any camera's archive from any node.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${CLUSTER_DIR:-/tmp/camvault-cluster}
base=$(( ${CLUSTER_PORT:-24000} / 2 * 2 )) # even: RTP ports are even
weed_version=v0.0.0-20261109003541-7506e5f91cd6
weed=${CAMVAULT_WEED:-$(command -v weed || echo "${XDG_CACHE_HOME:-$HOME/.cache}/camvault/weed-$weed_version/weed")}
access_key=camvault-demo
secret_key=camvault-demo-secret

die() { echo "cluster.sh: $*" >&2; exit 1; }

# started NAME PID records a process to stop.
started() { echo "$2" >"$dir/$1.pid"; echo "$1" >>"$dir/order"; }

# wait_for WHAT SECONDS CMD... polls CMD until it succeeds.
wait_for() {
	local what=$1 secs=$2
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	for log in "$dir"/*.log; do
		echo "== $log (last lines)" >&2
		tail -n 5 "$log" >&2
	done
	die "$what did not come up in ${secs}s (logs in $dir)"
}

start() {
	local cameras=${1:-6}
	[[ -e $dir/order ]] && die "already started in $dir (stop it first)"
	command -v etcd >/dev/null || die "etcd not found: apt-get install etcd-server"
	[[ -x $weed ]] || die "weed not found at $weed: run scripts/test.sh once (it builds it) or set CAMVAULT_WEED"
	mkdir -p "$dir"
	: >"$dir/order"
	echo "building camvault"
	go build -o "$dir/camvault" ./cmd/camvault

	local etcd_client=$((base)) etcd_peer=$((base + 1))
	etcd --name demo --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_client" \
		--advertise-client-urls "http://127.0.0.1:$etcd_client" --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
		--initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" --initial-cluster "demo=http://127.0.0.1:$etcd_peer" \
		>"$dir/etcd.log" 2>&1 &
	started etcd $!
	wait_for etcd 20 curl -fsS "http://127.0.0.1:$etcd_client/health"

	local p=$((base + 10)) s3=$((base + 16))
	mkdir -p "$dir/weed"
	AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key "$weed" -logtostderr mini -dir="$dir/weed" \
		-ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port=$p -master.port.grpc=$((p + 1)) -volume.port=$((p + 2)) \
		-volume.port.grpc=$((p + 3)) -filer.port=$((p + 4)) -filer.port.grpc=$((p + 5)) -s3.port=$s3 \
		-s3.port.grpc=$((p + 7)) -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -admin.ui=false \
		-master.telemetry=false -admin.port=$((p + 8)) -admin.port.grpc=$((p + 9)) -admin.port.legacy=0 \
		-master.volumeSizeLimitMB=64 -volume.max=32 -volume.preStopSeconds=0 >"$dir/weed.log" 2>&1 &
	started weed $!
	# weed shell names the master as host:port.grpcport.
	wait_for "the S3 server" 60 bash -c "echo 's3.bucket.create -name camvault' | '$weed' shell -master=127.0.0.1:$p.$((p + 1)) 2>&1 | grep -Eq 'created bucket|already exists'"

	local cams=$((base + 30))
	/usr/bin/python3 scripts/sim-cameras.py "$cams" "$cameras" >"$dir/cameras.log" 2>&1 &
	started cameras $!
	wait_for cameras 30 grep -q ready "$dir/cameras.log"

	local yaml="cameras:"$'\n'
	for ((k = 0; k < cameras; k++)); do
		yaml+="  cam$k: {url: rtsp://127.0.0.1:$cams/cam$k}"$'\n'
	done
	for n in 0 1 2; do
		local rtsp=$((base + 40 + 10 * n))
		cat >"$dir/node$n.yaml" <<EOF
data_dir: $dir/node$n
rtsp: {address: "127.0.0.1:$rtsp", udp_rtp_address: "127.0.0.1:$((rtsp + 2))", udp_rtcp_address: "127.0.0.1:$((rtsp + 3))"}
tls: {address: "127.0.0.1:$((rtsp + 4))"}
http: {address: "127.0.0.1:$((rtsp + 5))", tls_address: "127.0.0.1:$((rtsp + 6))"}
recorder: {segment_duration: 10s}
cluster:
  endpoints: [http://127.0.0.1:$etcd_client]
  node: node$n
  rtsp_url: rtsp://127.0.0.1:$rtsp
  http_url: http://127.0.0.1:$((rtsp + 5))
  lease_ttl: 5s
tier: {endpoint: "127.0.0.1:$s3", bucket: camvault, access_key: $access_key, secret_key: $secret_key, scan_interval: 1s}
$yaml
EOF
		"$dir/camvault" serve -config "$dir/node$n.yaml" >"$dir/node$n.log" 2>&1 &
		started "node$n" $!
		wait_for "node$n" 30 grep -q 'msg="camvault serving"' "$dir/node$n.log"
		echo "node$n: rtsp://127.0.0.1:$rtsp  http://127.0.0.1:$((rtsp + 5))  (pid $(cat "$dir/node$n.pid"), log $dir/node$n.log)"
	done
	echo "etcd: http://127.0.0.1:$etcd_client  S3: http://127.0.0.1:$s3 (bucket camvault)  cameras: rtsp://127.0.0.1:$cams/cam0..cam$((cameras - 1))"
	echo "live: rtsp://127.0.0.1:$((base + 40))/cam0 (any node: others answer 302 to the owner)"
	echo "archive: rtsp://127.0.0.1:$((base + 40))/archive/cam0 (any node; uploaded segments of every node)"
}

status() {
	[[ -e $dir/order ]] || die "not started"
	for n in 0 1 2; do
		local pid
		pid=$(cat "$dir/node$n.pid")
		if kill -0 "$pid" 2>/dev/null; then
			printf 'node%d (pid %s) records:' "$n" "$pid"
		else
			printf 'node%d (pid %s, not running) recorded:' "$n" "$pid"
		fi
		# A camera is this node's while its last gained/lost line says gained.
		awk '/msg="camera (gained|lost)"/ { for (i = 1; i <= NF; i++) if ($i ~ /^camera=/) c = substr($i, 8);
			own[c] = ($0 ~ /camera gained/) } END { for (c in own) if (own[c]) printf " %s", c; print "" }' "$dir/node$n.log"
	done
}

stop() {
	[[ -e $dir/order ]] || die "not started"
	tac "$dir/order" | while read -r name; do
		local pid
		pid=$(cat "$dir/$name.pid")
		if kill "$pid" 2>/dev/null; then
			for ((i = 0; i < 300 && $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 0.1; done
			kill -9 "$pid" 2>/dev/null || true
			echo "stopped $name (pid $pid)"
		fi
		rm -f "$dir/$name.pid"
	done
	rm -f "$dir/order"
}

case ${1:-} in
start) start "${2:-6}" ;;
status) status ;;
stop) stop ;;
*) die "usage: $0 start [CAMERAS] | status | stop" ;;
esac
