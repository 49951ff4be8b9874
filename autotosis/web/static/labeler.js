// The labeler page: pick a clip, mark reaction segments with the keyboard, draw the face-cam box, save.
// Edits live per clip in memory until saved, so switching clips or a failed save never loses them.
// A VOD opens in answer mode instead (answers.js): S.vod holds it, the timeline shows one window
// of it (view()), and with a span preview playing, S.offset is the preview's start in the VOD.
"use strict";

const SPEEDS = [0.25, 0.5, 1, 2, 4];
const MIN_SEGMENT = 0.05;  // seconds; shorter spans are almost surely a double key press

// colours: a colour per label, as the reels, timeline.png and the review page draw it (from
// /api/clips: autotosis/palette.py); palette: the colours a label new to the project takes in turn.
const S = { clips: [], info: null, edits: {}, selected: -1, inPoint: null, colours: {}, palette: [],
            vod: null, offset: 0, focus: null };
const $ = (id) => document.getElementById(id);
const video = $("video");

function edit() { return S.info ? S.edits[S.info.clip] : null; }
function duration() { return S.info ? S.info.duration : 0; }
function now() { return (video.currentTime || 0) + S.offset; }
// The stretch of the video the timeline shows: the whole clip, or a VOD's window around a moment.
function view() { return S.vod && S.vod.view ? S.vod.view : [0, duration()]; }

// An edit holds every label of the clip; `segments` is the current label's, so the marking
// code works on whichever label is picked and never touches the others.
function fromServer(info) {
  const label = info.label || { label: "rage", facecam: null, segments: [] };
  const labels = {};
  for (const [name, spans] of Object.entries(label.labels || { [label.label]: label.segments })) {
    labels[name] = spans.map((s) => [...s]);
  }
  const e = { label: label.label, labels, facecam: label.facecam, digest: info.digest, dirty: false };
  Object.defineProperty(e, "segments", {
    get() { return this.labels[this.label]; },
    set(value) { this.labels[this.label] = value; },
  });
  return e;
}

function labelColour(name) {
  if (!(name in S.colours)) S.colours[name] = S.palette[Object.keys(S.colours).length % S.palette.length];
  return S.colours[name];
}

function pickLabel(name) {
  const e = edit();
  if (!/^[\w-]+$/.test(name)) { say(`a label is one word, not "${name}"`, "error"); return; }
  if (!(name in e.labels)) {
    e.labels[name] = [];
    if (!S.vod) e.dirty = true;  // a VOD's answers are written as given: a new label is nothing to save
  }
  e.label = name;
  S.selected = -1;
  S.inPoint = null;
  if (S.vod) vodLabel(name);
  render();
}

function cycleLabel(delta) {
  const names = Object.keys(edit().labels);
  pickLabel(names[(names.indexOf(edit().label) + delta + names.length) % names.length]);
}

function changed() {
  edit().dirty = true;
  render();
}

// ------------------------------------------------------------------ clip list

async function loadClips() {
  const data = await api("GET", "/api/clips");
  S.clips = data.clips;
  S.colours = data.colours;
  S.palette = data.palette;
  S.focus = data.focus;
  renderClips();
  if (!S.info && S.clips.length) openClip(S.focus || S.clips[0].clip);
  if (!S.clips.length) $("empty").textContent = "no clips in the clips folder";
}

function renderClips() {
  const list = $("clips");
  list.replaceChildren();
  $("clip-count").textContent = S.clips.length ? `(${S.clips.length})` : "";
  for (const row of S.clips) {
    const dirty = S.edits[row.clip] && S.edits[row.clip].dirty;
    const badge = row.status === "labeled"
      ? `${row.segments} seg · ${row.partial ? `${row.reviewed.toFixed(0)} s answered` : `${row.positive.toFixed(1)} s`}`
        + (row.facecam ? "" : " · no box")
      : row.status === "error" ? "error" : "unlabeled";
    const item = el("li", { class: `clip ${row.status}${S.info && S.info.clip === row.clip ? " active" : ""}`,
                            title: row.problem || row.label_file, dataset: { clip: row.clip },
                            onclick: () => openClip(row.clip) },
      el("span", { class: "name" }, row.clip.split("/").pop(), dirty ? el("span", { class: "dirty" }, " ●") : null),
      el("span", { class: "badge" }, badge));
    list.append(item);
  }
}

async function openClip(clip) {
  let info;
  try {
    info = await api("GET", `/api/clip?clip=${encodeURIComponent(clip)}`);
  } catch (err) {
    say(err.message, "error");
    return;
  }
  S.info = info;
  S.selected = -1;
  S.inPoint = null;
  if (!S.edits[clip] || !S.edits[clip].dirty) S.edits[clip] = fromServer(info);
  if (info.problem) say(info.problem, "error");
  $("conflict").hidden = true;
  $("empty").hidden = true;
  const stage = $("stage");
  stage.style.aspectRatio = `${info.width} / ${info.height}`;
  stage.style.width = `min(100%, calc(58vh * ${info.width / info.height}))`;
  $("current").textContent = `${info.clip} → ${info.label_file}`;
  $("label-name").value = "";
  video.dataset.proxy = "";
  S.offset = 0;
  if (info.vod) {
    enterVod(info);  // answers.js: suggestions, windowed timeline, span previews
    render();
    return;
  }
  leaveVod();
  if (info.playable) {
    $("preparing").hidden = true;
    video.src = info.video;
  } else {
    useProxy(info);
  }
  render();
}

// Clips the browser cannot decode play from a proxy the server makes once; times stay the original's.
async function useProxy(info) {
  video.removeAttribute("src");
  video.load();
  $("preparing").hidden = false;
  try {
    let status = await api("POST", "/api/proxy", { clip: info.clip });
    while (status.state === "preparing") {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (S.info !== info) return;
      status = await api("GET", `/api/proxy?clip=${encodeURIComponent(info.clip)}`);
    }
    if (status.state !== "ready") throw new Error(status.error || "could not make a preview");
    if (S.info !== info) return;
    video.dataset.proxy = "1";
    video.src = `/proxy/${encodeURIComponent(info.clip).replace(/%2F/g, "/")}`;
  } catch (err) {
    say(`preview failed: ${err.message}`, "error");
  } finally {
    $("preparing").hidden = true;
  }
}

video.addEventListener("error", () => {
  if (S.vod) vodPlaybackFailed();
  else if (S.info && !video.dataset.proxy && video.getAttribute("src")) useProxy(S.info);
});

// ------------------------------------------------------------------ marking

function segmentAt(t) {
  return edit().segments.findIndex(([a, b]) => a <= t && t <= b);
}

function addSegment(a, b) {
  const segments = edit().segments;
  let start = a, end = b;
  const kept = [];
  for (const [s, e] of segments) {
    if (e < start || s > end) kept.push([s, e]);
    else { start = Math.min(start, s); end = Math.max(end, e); }
  }
  kept.push([start, end]);
  kept.sort((x, y) => x[0] - y[0]);
  edit().segments = kept;
  S.selected = kept.findIndex(([s]) => s === start);
}

function markIn() {
  if (S.vod) { markEdge(0); return; }
  const t = now();
  const inside = segmentAt(t);
  if (inside >= 0 && t < edit().segments[inside][1] - MIN_SEGMENT) {
    edit().segments[inside][0] = t;
    S.selected = inside;
    say(`segment ${inside + 1} now starts at ${fmtTime(t)}`);
    changed();
    return;
  }
  S.inPoint = t;
  say(`start marked at ${fmtTime(t)}; press O or ] at the end`);
  render();
}

function markOut() {
  if (S.vod) { markEdge(1); return; }
  const t = now();
  const segments = edit().segments;
  if (S.inPoint !== null) {
    const a = Math.min(S.inPoint, t), b = Math.max(S.inPoint, t);
    if (b - a < MIN_SEGMENT) { say("segment too short: move the playhead first", "error"); return; }
    addSegment(a, b);
    S.inPoint = null;
    say(`segment ${fmtTime(a)} – ${fmtTime(b)} added`, "ok");
    changed();
    return;
  }
  let target = segmentAt(t);
  if (target < 0) {
    // No open start: extend the segment that ended most recently before the playhead.
    segments.forEach(([, e], i) => { if (e <= t && (target < 0 || e > segments[target][1])) target = i; });
  }
  if (target < 0 || t <= segments[target][0] + MIN_SEGMENT) { say("press I or [ at the start first", "error"); return; }
  segments[target][1] = t;
  S.selected = target;
  say(`segment ${target + 1} now ends at ${fmtTime(t)}`);
  changed();
}

function deleteSegment() {
  if (S.inPoint !== null && S.selected < 0) { S.inPoint = null; render(); return; }
  const index = S.selected >= 0 ? S.selected : segmentAt(now());
  if (index < 0) { say("no segment selected or under the playhead", "error"); return; }
  edit().segments.splice(index, 1);
  S.selected = -1;
  say(`segment ${index + 1} deleted`);
  changed();
}

function seek(t) {
  const [a, b] = view();
  video.currentTime = clamp(t, a, b) - S.offset;
  render();
}

function setSpeed(index) {
  video.playbackRate = SPEEDS[index];
  $("speed").textContent = `${SPEEDS[index]}×`;
}

function togglePlay() {
  if (!S.info) return;
  if (video.paused) video.play().catch((err) => say(`cannot play: ${err.message}`, "error"));
  else video.pause();
}

// ------------------------------------------------------------------ timeline

function timeAtX(clientX) {
  const rect = $("timeline").getBoundingClientRect();
  const [a, b] = view();
  return a + clamp((clientX - rect.left) / rect.width, 0, 1) * (b - a);
}

function dragEdge(event, index, side) {
  event.stopPropagation();
  S.selected = index;
  drag(event, (e) => {
    const segments = edit().segments;
    const [s, end] = segments[index];
    const t = timeAtX(e.clientX);
    if (side === 0) {
      const low = index > 0 ? segments[index - 1][1] : 0;
      segments[index][0] = clamp(t, low, end - MIN_SEGMENT);
    } else {
      const high = index < segments.length - 1 ? segments[index + 1][0] : duration();
      segments[index][1] = clamp(t, s + MIN_SEGMENT, high);
    }
    video.currentTime = segments[index][side];
    changed();
  });
}

$("timeline").addEventListener("pointerdown", (event) => {
  if (!S.info) return;
  S.selected = -1;
  seek(timeAtX(event.clientX));
  drag(event, (e) => seek(timeAtX(e.clientX)));
});

function renderTimeline() {
  if (S.vod) { renderVodTimeline(); return; }
  const layer = $("segments-layer");
  layer.replaceChildren();
  const total = duration() || 1;
  const pct = (t) => `${(100 * t) / total}%`;
  if (!S.info) return;
  for (const [name, spans] of Object.entries(edit().labels)) {
    if (name === edit().label) continue;
    for (const [a, b] of spans) {  // the clip's other labels, for context: not editable here
      const other = el("div", { class: "seg other", title: name, dataset: { label: name } });
      other.style.left = pct(a);
      other.style.width = pct(b - a);
      other.style.background = labelColour(name);
      layer.append(other);
    }
  }
  edit().segments.forEach(([a, b], i) => {
    const seg = el("div", { class: `seg${i === S.selected ? " selected" : ""}`, dataset: { index: i } },
      el("div", { class: "edge start", title: "drag to move the start" }),
      el("div", { class: "edge end", title: "drag to move the end" }));
    seg.style.left = pct(a);
    seg.style.width = pct(b - a);
    seg.style.borderColor = labelColour(edit().label);
    if (i !== S.selected) seg.style.background = `${labelColour(edit().label)}99`;
    seg.children[0].addEventListener("pointerdown", (e) => dragEdge(e, i, 0));
    seg.children[1].addEventListener("pointerdown", (e) => dragEdge(e, i, 1));
    seg.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      S.selected = i;
      seek(timeAtX(e.clientX));
    });
    layer.append(seg);
  });
  $("in-marker").hidden = S.inPoint === null;
  if (S.inPoint !== null) $("in-marker").style.left = pct(S.inPoint);
}

// ------------------------------------------------------------------ face-cam box

function pointAt(event) {
  const rect = $("overlay").getBoundingClientRect();
  return [clamp((event.clientX - rect.left) / rect.width, 0, 1), clamp((event.clientY - rect.top) / rect.height, 0, 1)];
}

const round4 = (v) => Math.round(v * 10000) / 10000;

$("overlay").addEventListener("pointerdown", (event) => {
  if (!S.info || event.button !== 0) return;
  const [px, py] = pointAt(event);
  const box = edit().facecam;
  const corner = event.target.dataset.corner;
  const start = box ? [...box] : null;
  let mode = "draw";
  if (corner) mode = corner;
  else if (box && px >= box[0] && px <= box[2] && py >= box[1] && py <= box[3]) mode = "move";
  drag(event, (e) => {
    const [x, y] = pointAt(e);
    let next;
    if (mode === "draw") {
      next = [Math.min(px, x), Math.min(py, y), Math.max(px, x), Math.max(py, y)];
    } else if (mode === "move") {
      const dx = clamp(x - px, -start[0], 1 - start[2]), dy = clamp(y - py, -start[1], 1 - start[3]);
      next = [start[0] + dx, start[1] + dy, start[2] + dx, start[3] + dy];
    } else {
      next = [...start];
      if (mode.includes("w")) next[0] = Math.min(x, start[2] - 0.01); else next[2] = Math.max(x, start[0] + 0.01);
      if (mode.includes("n")) next[1] = Math.min(y, start[3] - 0.01); else next[3] = Math.max(y, start[1] + 0.01);
    }
    if (next[2] - next[0] < 0.01 || next[3] - next[1] < 0.01) return;  // a click, not a drag
    edit().facecam = next.map(round4);
    changed();
  });
});

async function autoBox() {
  if (!S.info) return;
  const clip = S.info.clip;
  say("looking for the face…");
  try {
    const guess = await api("POST", "/api/detect", { clip });
    S.edits[clip].facecam = guess.box;
    S.edits[clip].dirty = true;
    say(`face found in ${guess.frames_with_face}/${guess.frames_sampled} frames`, "ok");
    render();
  } catch (err) {
    say(err.message, "error");
  }
}

function renderBox() {
  const box = S.info ? edit().facecam : null;
  const node = $("box");
  node.hidden = !box;
  $("box-text").textContent = box ? `face-cam: [${box.map((v) => v.toFixed(3)).join(", ")}]` : "face-cam: none (drag on the video)";
  if (!box) return;
  node.style.left = `${box[0] * 100}%`;
  node.style.top = `${box[1] * 100}%`;
  node.style.width = `${(box[2] - box[0]) * 100}%`;
  node.style.height = `${(box[3] - box[1]) * 100}%`;
}

// ------------------------------------------------------------------ saving

async function save(force = false) {
  if (!S.info) return;
  if (S.vod) { saveVodBox(); return; }
  const clip = S.info.clip;
  const e = S.edits[clip];
  const body = { clip, labels: e.labels, facecam: e.facecam, digest: e.digest, force };
  try {
    const info = await api("POST", "/api/save", body);
    e.digest = info.digest;
    e.dirty = false;
    S.clips = S.clips.map((row) => (row.clip === clip ? { ...row, ...info } : row));
    $("conflict").hidden = true;
    say(`saved ${info.label_file}`, "ok");
  } catch (err) {
    if (err.status === 409) {
      $("conflict-text").textContent = err.message;
      $("conflict").hidden = false;
    }
    say(`not saved: ${err.message}`, "error");  // the edits stay in the page
  }
  render();
}

$("save").addEventListener("click", () => save());
$("conflict-overwrite").addEventListener("click", () => save(true));
$("conflict-reload").addEventListener("click", () => {
  const clip = S.info.clip;
  delete S.edits[clip];
  openClip(clip);
});

// ------------------------------------------------------------------ rendering and keys

function renderSegmentTable() {
  const rows = $("seg-rows");
  rows.replaceChildren();
  if (!S.info) return;
  let positive = 0;
  edit().segments.forEach(([a, b], i) => {
    positive += b - a;
    rows.append(el("tr", { class: i === S.selected ? "selected" : "", onclick: () => { S.selected = i; seek(a); } },
      el("td", {}, String(i + 1)), el("td", {}, fmtTime(a)), el("td", {}, fmtTime(b)),
      el("td", {}, `${(b - a).toFixed(2)} s`),
      el("td", {}, el("button", { class: "small", title: "delete", onclick: (ev) => {
        ev.stopPropagation(); S.selected = i; deleteSegment();
      } }, "✕"))));
  });
  $("positive").textContent = `${positive.toFixed(1)} s positive of ${duration().toFixed(1)} s`;
}

function renderLabels() {
  const list = $("label-list");
  list.replaceChildren();
  if (!S.info) return;
  for (const [name, spans] of Object.entries(edit().labels)) {
    const count = S.vod ? (S.vod.counts[name] || 0) : spans.length;
    const chip = el("button", { class: `label-chip${name === edit().label ? " active" : ""}`,
                                title: "switch label (L / Shift+L)", dataset: { label: name },
                                onclick: () => pickLabel(name) }, `${name} ${count}`);
    chip.style.borderColor = labelColour(name);
    if (name === edit().label) chip.style.background = `${labelColour(name)}55`;
    list.append(chip);
  }
}

function render() {
  renderClips();
  renderLabels();
  renderTimeline();
  renderSegmentTable();
  renderBox();
  renderVod();
  const e = edit();
  $("save").disabled = !e || (S.vod && !e.dirty);
  $("save").textContent = (S.vod ? "Save box" : "Save") + (e && e.dirty ? " ●" : "");
}

function tick() {
  const t = now();
  const [a, b] = view();
  $("time").textContent = `${fmtTime(t)} / ${fmtTime(duration())}`;
  $("playhead").style.left = `${(100 * clamp(t - a, 0, b - a)) / (b - a || 1)}%`;
  $("play").textContent = video.paused ? "▶" : "❚❚";
  if (S.vod && !video.paused && t >= b - 0.05) video.pause();  // a VOD plays its window, not on and on
  requestAnimationFrame(tick);
}

function step(delta) {
  video.pause();
  seek(now() + delta);
}

function moveClip(delta) {
  const index = S.clips.findIndex((row) => S.info && row.clip === S.info.clip);
  const next = S.clips[clamp(index + delta, 0, S.clips.length - 1)];
  if (next && (!S.info || next.clip !== S.info.clip)) openClip(next.clip);
}

const KEYS = {
  " ": togglePlay,
  ArrowLeft: (e) => seek(now() - (e.shiftKey ? 5 : 1)),
  ArrowRight: (e) => seek(now() + (e.shiftKey ? 5 : 1)),
  ",": () => step(-1 / (S.info ? S.info.fps : 30)),
  ".": () => step(1 / (S.info ? S.info.fps : 30)),
  i: markIn, "[": markIn,
  o: markOut, "]": markOut,
  Delete: deleteSegment, Backspace: deleteSegment,
  Home: () => seek(0), End: () => seek(duration()),
  a: autoBox,
  n: () => moveClip(1), p: () => moveClip(-1),
  s: () => save(),
  l: (e) => cycleLabel(e.shiftKey ? -1 : 1),
  Escape: () => { S.selected = -1; S.inPoint = null; render(); },
};
SPEEDS.forEach((_, i) => { KEYS[String(i + 1)] = () => setSpeed(i); });

document.addEventListener("keydown", (event) => {
  const typing = event.target.tagName === "INPUT";
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
    event.preventDefault();
    save();
    return;
  }
  if (typing) {
    if (event.key === "Enter" || event.key === "Escape") event.target.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = S.vod ? { ...KEYS, ...VOD_KEYS } : KEYS;
  const action = keys[event.key] || keys[event.key.toLowerCase()];
  if (!action || !S.info) return;
  event.preventDefault();
  action(event);
});

// Buttons give focus back to the page so space and arrows keep driving the player.
document.addEventListener("click", (event) => {
  if (event.target.closest("button")) event.target.closest("button").blur();
});

$("label-name").addEventListener("keydown", (event) => {
  if (!S.info || event.key !== "Enter") return;
  const name = event.target.value.trim();
  if (name) pickLabel(name);
  event.target.value = "";
});
$("play").addEventListener("click", togglePlay);
$("mark-in").addEventListener("click", markIn);
$("mark-out").addEventListener("click", markOut);
$("delete").addEventListener("click", deleteSegment);
$("auto").addEventListener("click", autoBox);
$("clear-box").addEventListener("click", () => { if (S.info) { edit().facecam = null; changed(); } });

window.addEventListener("beforeunload", (event) => {
  if (Object.values(S.edits).some((e) => e.dirty)) event.preventDefault();
});

loadClips().catch((err) => say(err.message, "error"));
requestAnimationFrame(tick);
