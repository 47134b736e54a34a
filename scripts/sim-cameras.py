#!/usr/bin/python3
# scripts/sim-cameras.py: N simulated RTSP cameras for scripts/cluster.sh, made of GStreamer's RTSP
# server (Debian: python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly).
#
#   /usr/bin/python3 scripts/sim-cameras.py PORT N
#
# serves rtsp://127.0.0.1:PORT/cam0 .. /cam{N-1}: live H.264, 320x240 at 15 fps, a keyframe a
# second, each with its own test pattern. Prints "ready" once it serves; runs until killed.
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

Gst.init(None)
port, count = sys.argv[1], int(sys.argv[2])
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
mounts = server.get_mount_points()
for k in range(count):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch("( videotestsrc is-live=true pattern=%d ! video/x-raw,width=320,height=240,framerate=15/1 ! "
                 "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! video/x-h264,profile=baseline ! "
                 "rtph264pay name=pay0 pt=96 config-interval=1 )" % (k % 25))
    f.set_shared(True)
    mounts.add_factory("/cam%d" % k, f)
server.attach(None)
print("ready", flush=True)
GLib.MainLoop().run()
