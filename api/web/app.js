// camvault timeline page: cameras, what each recorded in the visible window,
// playback from a click, a selected span to download or hold. Plain browser
// JavaScript, no framework; every call goes to this origin's /api/v1.
'use strict';

const MINUTE = 60e3, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
const MIN_WINDOW = 2 * MINUTE, MAX_WINDOW = 7 * DAY; // zoom limits
const PLAY_WINDOW = 10 * MINUTE;   // a click streams this much from its point
const TOKEN_PLAY_WINDOW = 2 * MINUTE; // with a token the clip is fetched whole first
const CAMERA_REFRESH = 30e3;       // camera states and the growing recording
const NOW_MARGIN = 30 * MINUTE;    // the default window ends this far after now
const TOKEN_KEY = 'camvault.token';
const TICK_STEPS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY];

const $ = (id) => document.getElementById(id);
const view = { start: 0, end: 0 };
const records = new Map(); // camera name -> recordings answer for the view
let cameras = [];
let holds = [];
let selection = null; // {camera, start, end} in ms
let playing = null;   // {camera, start} in ms
let blobURL = '';
let queryGeneration = 0;
let refreshTimer = 0;

// --- time ------------------------------------------------------------------

const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const tickFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const local = (ms) => fullFormat.format(new Date(ms));
const utc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const iso = (ms) => new Date(ms).toISOString();
const spanTitle = (a, b) => `${local(a)} – ${local(b)}\n${utc(a)} – ${utc(b)}`;

function duration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// --- API -------------------------------------------------------------------

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: 'Bearer ' + token } : {};
}

// api calls method on a same-origin path and returns the decoded JSON answer;
// a 4xx or 5xx throws an Error whose message explains the problem.
async function api(method, path, body) {
  const headers = authHeaders();
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw await problem(resp);
  return resp.status === 204 ? null : resp.json();
}

async function problem(resp) {
  let detail = '';
  try {
    detail = (await resp.json()).detail || '';
  } catch (_) {
    detail = resp.statusText; // not a problem document
  }
  if (resp.status === 401) {
    return new Error(`Not signed in (401: ${detail}). Sign in when the browser asks, or enter a bearer token. ` +
      'Credentials are accepted only over HTTPS or from this machine.');
  }
  if (resp.status === 403) return new Error(`Not allowed (403: ${detail}). Your user lacks the right for this.`);
  return new Error(`The server answered ${resp.status}: ${detail}`);
}

function showMessage(text) {
  const m = $('message');
  m.textContent = text;
  m.hidden = !text;
}

const seg = (name) => encodeURIComponent(name); // one path segment

// --- loading ---------------------------------------------------------------

async function loadCameras() {
  try {
    const [list, held] = await Promise.all([api('GET', '/api/v1/cameras'), api('GET', '/api/v1/holds')]);
    cameras = list.cameras;
    holds = held.holds;
    renderCameras();
    renderHolds();
    await loadRecordings();
  } catch (e) {
    showMessage(e.message);
  }
}

// loadRecordings asks for every camera's spans in the visible window; an
// answer to a window that has since changed is dropped.
async function loadRecordings() {
  const generation = ++queryGeneration;
  const start = iso(view.start), end = iso(view.end);
  const answers = await Promise.allSettled(cameras.map((c) =>
    api('GET', `/api/v1/cameras/${seg(c.name)}/recordings?start=${start}&end=${end}`)));
  if (generation !== queryGeneration) return;
  // The window the lines show answers for (the browser test waits on it).
  Object.assign($('cameras').dataset, { loadedStart: start, loadedEnd: end });
  const failed = answers.find((a) => a.status === 'rejected');
  cameras.forEach((c, i) => {
    if (answers[i].status === 'fulfilled') records.set(c.name, answers[i].value);
  });
  showMessage(failed ? failed.reason.message : '');
  drawAll();
}

function scheduleRecordings() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadRecordings, 150);
}

// --- view ------------------------------------------------------------------

function setView(start, end) {
  let span = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, end - start));
  const mid = (start + end) / 2;
  start = mid - span / 2;
  const latest = Date.now() + span / 4;
  if (start + span > latest) start = latest - span;
  view.start = Math.round(start);
  view.end = Math.round(start + span);
  drawAll();
  scheduleRecordings();
}

// zoom scales the window by factor, keeping the instant at keeps its place.
function zoom(factor, at) {
  const span = view.end - view.start;
  const f = (at - view.start) / span;
  const next = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, span * factor));
  setView(at - f * next, at - f * next + next);
}

const pan = (fraction) => {
  const d = (view.end - view.start) * fraction;
  setView(view.start + d, view.end + d);
};

// lastDay shows 24 h ending a little after now, so that the live edge of a
// recording is not pressed against the border.
const lastDay = () => setView(Date.now() + NOW_MARGIN - DAY, Date.now() + NOW_MARGIN);

function timeAt(line, clientX) {
  const r = line.getBoundingClientRect();
  const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
  return view.start + f * (view.end - view.start);
}

// pointedTime is the instant under the pointer; over a drawn block (which
// may be wider than its time, see block) it is kept inside the block's time.
function pointedTime(line, e) {
  const t = timeAt(line, e.clientX), d = e.target.dataset;
  if (e.target === line || !d.start) return t;
  return Math.min(Math.max(t, Date.parse(d.start)), Date.parse(d.end));
}

// --- drawing ---------------------------------------------------------------

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// block is an element covering [start, end) of the view, or null when it
// lies outside. data-start and data-end keep the unclipped instants.
function block(className, start, end) {
  const a = Math.max(start, view.start), b = Math.min(end, view.end);
  if (b <= a) return null;
  const span = view.end - view.start;
  const e = el('div', className);
  const width = Math.max(0.2, (100 * (b - a)) / span); // a short span stays visible
  e.style.left = `${Math.min((100 * (a - view.start)) / span, 100 - width)}%`;
  e.style.width = `${width}%`;
  e.dataset.start = iso(start);
  e.dataset.end = iso(end);
  e.title = `${spanTitle(start, end)}\n${duration(end - start)}`;
  return e;
}

function renderCameras() {
  const list = $('cameras');
  const rows = new Map([...list.children].map((li) => [li.dataset.camera, li]));
  const next = cameras.map((cam) => {
    const li = rows.get(cam.name) || cameraRow(cam.name);
    const state = li.querySelector('.state');
    state.className = `state state-${cam.state}`;
    state.textContent = cam.state.replace(/[-_]/g, ' ');
    state.title = cam.last_error ? `last error: ${cam.last_error}` : `${cam.source}; ${(cam.tracks || []).join(', ')}`;
    return li;
  });
  list.replaceChildren(...next);
  if (cameras.length === 0) list.append(el('li', 'empty', 'No cameras yet.'));
}

function cameraRow(name) {
  const li = el('li', 'camera');
  li.dataset.camera = name;
  const head = el('div', 'camera-head');
  const watch = el('button', 'watch', 'Live');
  watch.type = 'button';
  watch.title = `Watch ${name} live`;
  watch.addEventListener('click', () => toggleLive(name));
  head.append(el('span', 'name', name), el('span', 'state'), watch);
  const line = el('div', 'timeline');
  line.dataset.camera = name;
  attachPointer(line, name);
  li.append(head, line);
  return li;
}

function drawAll() {
  const w = $('window');
  w.textContent = `${local(view.start)} – ${local(view.end)}`;
  w.title = `${utc(view.start)} – ${utc(view.end)}`;
  w.dataset.start = iso(view.start);
  w.dataset.end = iso(view.end);
  drawAxis();
  for (const line of document.querySelectorAll('.timeline')) drawTimeline(line);
}

// drawPlayhead redraws the playing camera's line as the video advances.
function drawPlayhead() {
  const line = playing && [...document.querySelectorAll('.timeline')].find((l) => l.dataset.camera === playing.camera);
  if (line) drawTimeline(line);
}

function drawTimeline(line) {
  const name = line.dataset.camera;
  const rec = records.get(name);
  const parts = [];
  if (rec) {
    for (const s of rec.spans) parts.push(block('span', Date.parse(s.start), Date.parse(s.end)));
    for (const g of rec.gaps) parts.push(block('gap', Date.parse(g.start), Date.parse(g.end)));
  }
  for (const h of holds) {
    if (h.camera !== name) continue;
    const b = block('hold', Date.parse(h.from), Date.parse(h.to));
    if (b) b.title = `hold: ${h.reason || '(no reason)'}\n${b.title}`;
    parts.push(b);
  }
  if (selection && selection.camera === name) parts.push(block('sel', selection.start, selection.end));
  if (playing && playing.camera === name) {
    const at = playing.start + $('video').currentTime * 1000;
    parts.push(block('cursor', at, at + (view.end - view.start) / 500));
  }
  line.replaceChildren(...parts.filter(Boolean));
}

function drawAxis() {
  const axis = $('axis');
  const span = view.end - view.start;
  const most = Math.max(2, Math.floor(axis.clientWidth / 70));
  const step = TICK_STEPS.find((s) => span / s <= most) || DAY;
  // Ticks fall on whole steps of local time.
  const offset = new Date(view.start).getTimezoneOffset() * MINUTE;
  const ticks = [];
  for (let t = Math.ceil((view.start - offset) / step) * step + offset; t < view.end; t += step) {
    const d = new Date(t);
    const label = d.getHours() === 0 && d.getMinutes() === 0 ? dayFormat.format(d) : tickFormat.format(d);
    const tick = el('span', 'tick', label);
    tick.style.left = `${(100 * (t - view.start)) / span}%`;
    tick.title = utc(t);
    ticks.push(tick);
  }
  axis.replaceChildren(...ticks);
}

function renderHolds() {
  const list = $('holds');
  list.replaceChildren(...holds.map((h) => {
    const li = el('li', 'hold-item');
    const from = Date.parse(h.from), to = Date.parse(h.to);
    const text = el('span', '', `${h.camera}: ${local(from)} – ${local(to)}${h.reason ? ` (${h.reason})` : ''}`);
    text.title = spanTitle(from, to);
    const remove = el('button', '', 'Remove');
    remove.type = 'button';
    remove.addEventListener('click', () => removeHold(h.id));
    li.append(text, remove);
    return li;
  }));
  if (holds.length === 0) list.append(el('li', 'empty', 'No holds.'));
}

// --- pointer: click plays, drag selects, wheel and pinch zoom --------------

function attachPointer(line, name) {
  const pointers = new Map(); // pointerId -> clientX
  let drag = null;  // {x, t, moved}
  let pinch = null; // {distance, span, at}: the fingers' distance, window and instant at the start
  line.addEventListener('pointerdown', (e) => {
    line.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, e.clientX);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.abs(a - b) || 1, span: view.end - view.start, at: timeAt(line, (a + b) / 2) };
      drag = null;
    } else if (pointers.size === 1) {
      drag = { x: e.clientX, t: pointedTime(line, e), moved: false };
    }
  });
  line.addEventListener('pointermove', (e) => {
    if (!pointers.has(e.pointerId)) return;
    pointers.set(e.pointerId, e.clientX);
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const r = line.getBoundingClientRect();
      const span = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, pinch.span * pinch.distance / (Math.abs(a - b) || 1)));
      const f = ((a + b) / 2 - r.left) / r.width;
      setView(pinch.at - f * span, pinch.at - f * span + span);
    } else if (drag) {
      drag.moved ||= Math.abs(e.clientX - drag.x) > 6;
      if (drag.moved) select(name, drag.t, timeAt(line, e.clientX));
    }
  });
  const end = (e) => {
    if (!pointers.delete(e.pointerId)) return;
    if (pinch) {
      if (pointers.size === 0) pinch = null;
    } else if (drag && !drag.moved && e.type === 'pointerup') {
      play(name, drag.t).catch((err) => showMessage(err.message));
    }
    drag = null;
  };
  line.addEventListener('pointerup', end);
  line.addEventListener('pointercancel', end);
  line.addEventListener('wheel', (e) => {
    e.preventDefault();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) pan(e.deltaX / line.clientWidth);
    else zoom(Math.exp(e.deltaY * 0.002), pointedTime(line, e));
  }, { passive: false });
}

// --- selection, download, holds --------------------------------------------

function select(name, a, b) {
  const start = Math.round(Math.min(a, b)), end = Math.round(Math.max(a, b));
  selection = { camera: name, start, end };
  const text = $('selection-text');
  text.textContent = `${name}: ${local(start)} – ${local(end)} (${duration(end - start)})`;
  text.title = spanTitle(start, end);
  $('download').href = `/api/v1/cameras/${seg(name)}/export.mp4?start=${iso(start)}&end=${iso(end)}`;
  $('selection').hidden = false;
  drawAll();
}

// download fetches the selection itself when a token is in use: a link
// cannot send the Authorization header. With the browser's login the link
// downloads directly.
async function download(e) {
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  e.preventDefault();
  const link = e.currentTarget;
  const resp = await fetch(link.href, { headers: authHeaders() });
  if (!resp.ok) throw await problem(resp);
  const url = URL.createObjectURL(await resp.blob());
  const a = el('a');
  a.href = url;
  a.download = (resp.headers.get('Content-Disposition') || '').match(/filename="?([^";]+)/)?.[1] || 'camvault.mp4';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60e3);
}

async function addHold(e) {
  e.preventDefault();
  if (!selection) return;
  const reason = $('hold-reason').value;
  await api('POST', '/api/v1/holds', { camera: selection.camera, from: iso(selection.start), to: iso(selection.end), reason });
  $('hold-reason').value = '';
  await reloadHolds();
}

async function removeHold(id) {
  try {
    await api('DELETE', `/api/v1/holds/${encodeURIComponent(id)}`);
    await reloadHolds();
  } catch (err) {
    showMessage(err.message);
  }
}

async function reloadHolds() {
  holds = (await api('GET', '/api/v1/holds')).holds;
  renderHolds();
  drawAll();
}

// --- playback --------------------------------------------------------------

// play streams the fragmented export of camera from t into the video
// element. A t in a gap, or a few pixels past a span too short to hit,
// plays from the start of the next span.
async function play(name, t) {
  const rec = records.get(name);
  const slop = (view.end - view.start) / 250;
  const span = rec && rec.spans.map((s) => [Date.parse(s.start), Date.parse(s.end)]).find(([, b]) => b > t - slop);
  if (!span) {
    showMessage(`Nothing recorded on ${name} after ${local(t)} in this window.`);
    return;
  }
  const start = t >= span[0] && t < span[1] ? t : span[0];
  const token = sessionStorage.getItem(TOKEN_KEY);
  const end = Math.min(start + (token ? TOKEN_PLAY_WINDOW : PLAY_WINDOW), Date.now());
  const url = `/api/v1/cameras/${seg(name)}/export.m4s?start=${iso(start)}&end=${iso(end)}`;
  const video = $('video');
  if (blobURL) URL.revokeObjectURL(blobURL);
  blobURL = '';
  playing = { camera: name, start };
  $('playing').textContent = `${name} from ${local(start)}`;
  $('playing').title = utc(start);
  $('playback').hidden = false;
  if (token) {
    const resp = await fetch(url, { headers: authHeaders() });
    if (!resp.ok) throw await problem(resp);
    // Media time 0 is this instant (the keyframe at or before start).
    const mediaStart = Date.parse(resp.headers.get('X-Camvault-Start') || '');
    if (Number.isFinite(mediaStart)) playing.start = mediaStart;
    blobURL = URL.createObjectURL(await resp.blob());
    video.src = blobURL;
  } else {
    video.src = url;
  }
  showMessage('');
  video.play().catch(() => { /* the error event explains a failure */ });
}

// explainVideoError asks the export again to say why the video failed.
async function explainVideoError() {
  const video = $('video');
  if (!video.src || video.src.startsWith('blob:')) return;
  const ctl = new AbortController();
  try {
    const resp = await fetch(video.src, { headers: authHeaders(), signal: ctl.signal });
    showMessage(resp.ok ? 'The browser cannot play this recording (its codec?).' : (await problem(resp)).message);
  } catch (e) {
    showMessage(e.message);
  } finally {
    ctl.abort();
  }
}

// --- live ------------------------------------------------------------------

const liveViews = new Map(); // camera name -> {view, tile}

// toggleLive opens a live tile of the camera, or closes the open one.
function toggleLive(name) {
  const open = liveViews.get(name);
  if (open) {
    open.view.stop();
    open.tile.remove();
    liveViews.delete(name);
  } else {
    const tile = el('figure', 'live-tile');
    tile.dataset.camera = name;
    const video = el('video');
    video.controls = true;
    const caption = el('figcaption');
    const status = el('span', 'live-status');
    status.setAttribute('role', 'status');
    const alone = el('a', '', 'Open alone');
    alone.href = `/live/${seg(name)}`;
    alone.target = '_blank';
    const close = el('button', '', 'Close');
    close.type = 'button';
    close.addEventListener('click', () => toggleLive(name));
    caption.append(el('span', 'name', name), status, alone, close);
    tile.append(video, caption);
    $('live-tiles').append(tile);
    const view = new LiveView(video, name, (text, state) => {
      status.textContent = text;
      status.className = `live-status live-${state}`;
    });
    video.addEventListener('pause', () => { view.userPaused = !video.ended; });
    video.addEventListener('play', () => { view.userPaused = false; });
    liveViews.set(name, { view, tile });
    view.start();
  }
  $('live').hidden = liveViews.size === 0;
  for (const b of document.querySelectorAll('li.camera')) {
    b.querySelector('.watch').classList.toggle('on', liveViews.has(b.dataset.camera));
  }
}

// --- start -----------------------------------------------------------------

function start() {
  $('token').value = sessionStorage.getItem(TOKEN_KEY) || '';
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    loadCameras();
  });
  $('token-clear').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $('token').value = '';
  });
  $('earlier').addEventListener('click', () => pan(-0.5));
  $('later').addEventListener('click', () => pan(0.5));
  $('zoom-in').addEventListener('click', () => zoom(0.5, (view.start + view.end) / 2));
  $('zoom-out').addEventListener('click', () => zoom(2, (view.start + view.end) / 2));
  $('now').addEventListener('click', lastDay);
  $('download').addEventListener('click', (e) => download(e).catch((err) => showMessage(err.message)));
  $('hold-form').addEventListener('submit', (e) => addHold(e).catch((err) => showMessage(err.message)));
  $('video').addEventListener('timeupdate', drawPlayhead);
  $('video').addEventListener('error', explainVideoError);
  window.addEventListener('resize', drawAll);
  view.end = Date.now() + NOW_MARGIN;
  view.start = view.end - DAY;
  drawAll();
  loadCameras();
  setInterval(loadCameras, CAMERA_REFRESH);
}

start();
