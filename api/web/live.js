// camvault live view: a camera played live in a <video> through Media Source
// Extensions, from the fragmented MP4 that /api/v1/cameras/{camera}/live.ws
// sends over a WebSocket (a JSON "init" text message with the MSE type, then
// the init segment and one fragment per frame as binary messages). Used by
// the timeline page's live tiles and by the bare page at /live/{camera}.
// Plain browser JavaScript, no framework.
'use strict';

const LIVE_TOKEN_KEY = 'camvault.token'; // the timeline page's bearer token, this tab only
const LIVE_PROTOCOL = 'camvault.live.v1';
const LIVE_BEARER = 'camvault.bearer.';
const LIVE_TARGET = 0.3;  // s behind the newest frame the view aims for
const LIVE_NUDGE = 0.6;   // s behind: play a little faster (pitch kept) until back near LIVE_TARGET
const LIVE_JUMP = 3.0;    // s behind: jump to the newest frame
const LIVE_RATE = 1.1;    // the faster rate: a tenth of a second caught up per second
const LIVE_KEEP = 30;     // s of played media kept in the buffer
const LIVE_APPEND_MAX = 4 << 20; // bytes appended at once when messages queued up
const LIVE_RETRY_MIN = 2e3, LIVE_RETRY_MAX = 30e3;

// LiveView plays one camera into a <video>. onStatus(text, state) reports
// what it does; state is 'connecting', 'live', 'waiting' (it retries) or
// 'failed' (it does not: the user must act).
class LiveView {
  constructor(video, camera, onStatus) {
    this.video = video;
    this.camera = camera;
    this.onStatus = onStatus;
    this.retry = LIVE_RETRY_MIN;
    this.timer = 0;
    this.ws = null;
    this.stopped = true;
    video.muted = true; // browsers autoplay muted media only; the controls unmute
    video.playsInline = true;
    video.preservesPitch = true; // the catch-up rate must not change the pitch
  }

  path() { return `/api/v1/cameras/${encodeURIComponent(this.camera)}/live.ws`; }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.close();
  }

  status(text, state) {
    if (text === this.shown) return;
    this.shown = text;
    this.onStatus(text, state);
  }

  connect() {
    this.close();
    const token = sessionStorage.getItem(LIVE_TOKEN_KEY);
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + this.path();
    const ws = new WebSocket(url, token ? [LIVE_PROTOCOL, LIVE_BEARER + token] : [LIVE_PROTOCOL]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.opened = false;
    this.queue = [];
    this.mime = '';
    this.userPaused = false;
    this.status('Connecting…', 'connecting');
    ws.onopen = () => { this.opened = true; };
    ws.onmessage = (e) => this.message(e.data);
    ws.onclose = (e) => { if (this.ws === ws) this.closed(e); };
    this.tick = setInterval(() => this.keepLive(), 250);
  }

  // close drops the connection and the media source.
  close() {
    clearInterval(this.tick);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
    }
    this.sb = null;
    this.queue = [];
    if (this.url) {
      this.video.removeAttribute('src');
      this.video.load();
      URL.revokeObjectURL(this.url);
      this.url = '';
    }
  }

  message(data) {
    if (typeof data !== 'string') {
      this.queue.push(new Uint8Array(data));
      this.pump();
      return;
    }
    const m = JSON.parse(data);
    if (m.type !== 'init') return;
    const tracks = m.tracks || [], skipped = m.skipped || [];
    const what = [...tracks, ...skipped.map((s) => `not played: ${s}`)].join('; ');
    this.video.title = what;
    if (!window.MediaSource || !MediaSource.isTypeSupported(m.mime)) {
      this.fail(`This browser cannot play ${tracks.join(' and ')} (${m.mime}).`);
      return;
    }
    if (!this.url) {
      this.openSource(m.mime);
    } else if (m.mime !== this.mime) {
      this.queue.push({ changeType: m.mime });
    }
    this.mime = m.mime;
  }

  openSource(mime) {
    const ms = new MediaSource();
    this.url = URL.createObjectURL(ms);
    this.video.src = this.url;
    ms.addEventListener('sourceopen', () => {
      if (this.video.src !== this.url) return; // replaced meanwhile
      this.sb = ms.addSourceBuffer(mime);
      this.sb.mode = 'segments';
      this.sb.addEventListener('updateend', () => { this.trim(); this.pump(); this.keepLive(); });
      this.sb.addEventListener('error', () => this.again('The browser could not decode the stream.'));
      this.pump();
    }, { once: true });
    this.video.play().catch(() => { /* starts once data is there; keepLive asks again */ });
  }

  // pump appends what arrived while the SourceBuffer was busy, at once.
  pump() {
    const sb = this.sb;
    if (!sb || sb.updating || this.queue.length === 0) return;
    const first = this.queue[0];
    if (first.changeType) {
      this.queue.shift();
      sb.changeType(first.changeType);
      this.pump();
      return;
    }
    let n = 0, size = 0;
    while (n < this.queue.length && !this.queue[n].changeType && size + this.queue[n].length <= LIVE_APPEND_MAX) {
      size += this.queue[n].length;
      n++;
    }
    n = Math.max(n, 1);
    const parts = this.queue.splice(0, n);
    let buf = parts[0];
    if (parts.length > 1) {
      buf = new Uint8Array(size);
      let off = 0;
      for (const p of parts) { buf.set(p, off); off += p.length; }
    }
    try {
      sb.appendBuffer(buf);
    } catch (e) {
      if (e.name !== 'QuotaExceededError') throw e;
      this.queue.unshift(buf);
      this.trim(true);
    }
  }

  // trim removes played media older than LIVE_KEEP seconds (now, when
  // force: the buffer is full).
  trim(force) {
    const sb = this.sb, b = this.video.buffered;
    if (!sb || sb.updating || b.length === 0) return;
    const upTo = this.video.currentTime - (force ? 1 : LIVE_KEEP);
    if (upTo - b.start(0) > (force ? 0 : 10)) sb.remove(0, upTo);
  }

  // keepLive keeps the view near the newest frame it has: a jump when far
  // behind or in a gap (the server skipped frames for a slow browser), a
  // slightly faster rate when a little behind, which audio follows with
  // its pitch kept; audio and video share the one timeline.
  keepLive() {
    const v = this.video, b = v.buffered;
    if (!this.sb || b.length === 0) return;
    const start = b.start(b.length - 1), end = b.end(b.length - 1), behind = end - v.currentTime;
    if (v.currentTime < start || behind > LIVE_JUMP) {
      v.currentTime = Math.max(start, end - LIVE_TARGET);
      v.playbackRate = 1;
    } else if (behind > LIVE_NUDGE) {
      v.playbackRate = LIVE_RATE;
    } else if (behind < LIVE_TARGET + 0.05) {
      v.playbackRate = 1;
    }
    if (v.paused && !v.ended && !this.userPaused) v.play().catch(() => { /* not yet */ });
    if (v.currentTime > 0 && this.ws && this.retry !== LIVE_RETRY_MIN) this.retry = LIVE_RETRY_MIN;
    if (!v.paused && v.readyState >= 3) this.status('Live', 'live');
  }

  async closed(e) {
    this.ws = null;
    if (this.stopped) return;
    if (!this.opened) {
      await this.explain(); // the upgrade was refused: the status says why
      return;
    }
    if (e.reason === 'camera moved') {
      // In a cluster, the node that had the camera live no longer has it: the next
      // connection reaches the new owner (through this node).
      this.retry = LIVE_RETRY_MIN;
      this.again('The camera moved to another node.');
      return;
    }
    this.again(e.reason === 'camera stopped' ? 'The camera stopped.' : `Disconnected (${e.code}${e.reason ? ': ' + e.reason : ''}).`);
  }

  // explain asks the route without the upgrade, which answers the refusal
  // the WebSocket could not show (401, 403, 404, 503), and retries unless
  // the user must act.
  async explain() {
    let resp;
    try {
      const token = sessionStorage.getItem(LIVE_TOKEN_KEY);
      resp = await fetch(this.path(), { headers: token ? { Authorization: 'Bearer ' + token } : {}, credentials: 'same-origin' });
    } catch (err) {
      this.again(`Cannot reach camvault (${err.message}).`);
      return;
    }
    let detail = resp.statusText;
    try { detail = (await resp.json()).detail || detail; } catch (_) { /* not a problem document */ }
    switch (resp.status) {
      case 401:
        this.fail(`Not signed in (401: ${detail}). Sign in on the timeline page, or enter a bearer token there.`);
        break;
      case 403:
        this.fail(`Not allowed to watch ${this.camera} live (403: ${detail}).`);
        break;
      case 406:
        this.fail(`Nothing to play in a browser (${detail}).`);
        break;
      case 404:
        this.again(`${this.camera} is not live (${detail}).`);
        break;
      default:
        this.again(`Refused (${resp.status}: ${detail}).`);
    }
  }

  // again shows why the view stopped and connects again later.
  again(why) {
    this.close();
    if (this.stopped) return;
    const wait = this.retry;
    this.retry = Math.min(this.retry * 2, LIVE_RETRY_MAX);
    this.status(`${why} Trying again in ${Math.round(wait / 1000)} s.`, 'waiting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { if (!this.stopped) this.connect(); }, wait);
  }

  // fail shows why the view cannot play; it does not retry.
  fail(why) {
    this.close();
    this.status(why, 'failed');
  }
}

// startLivePage runs the bare page at /live/{camera}.
function startLivePage() {
  const camera = decodeURIComponent(location.pathname.split('/')[2] || '');
  document.title = `${camera} live – camvault`;
  document.getElementById('camera').textContent = camera;
  const status = document.getElementById('status');
  const video = document.getElementById('video');
  const view = new LiveView(video, camera, (text, state) => {
    status.textContent = text;
    status.className = `live-status live-${state}`;
  });
  video.addEventListener('pause', () => { view.userPaused = !video.ended; });
  video.addEventListener('play', () => { view.userPaused = false; });
  view.start();
}

if (document.body.classList.contains('live-page')) startLivePage();
