// Answer mode of the labeler page, for a VOD: the server finds the moments worth a look
// (/api/suggest, polled while it scans), the page shows them beside the player and asks about
// one at a time. Enter plays it from a little before, Y says "the reaction is here" (its span
// becomes the segment; drag its edges or press I / O to tighten it), N says "calm"; each answer
// is written at once and the page moves on. Only the window around the moment on screen is ever
// drawn or fetched: a VOD can be hours long. When the browser cannot play the file, each moment
// plays from a short preview the server cuts around it (S.offset maps its clock to the VOD's).
"use strict";

const POLL_MS = 400;

// S.vod: { clip, label, state, progress, stage, error, candidates, current, view, spans, counts,
//          playback: "direct" | "preview", preview: {url, view} | null, queue: Promise }
function enterVod(info) {
  const labels = Object.keys((info.label && info.label.labels) || {});
  const label = info.answer_label;
  S.vod = { clip: info.clip, label, state: "absent", progress: 0, stage: "", error: null, candidates: [],
            current: -1, view: null, spans: {}, counts: (info.label && info.label.counts) || {},
            playback: info.playable ? "direct" : "preview", preview: null, queue: Promise.resolve(),
            pendingPlay: false };
  const e = edit();
  if (!(label in e.labels)) e.labels[label] = [];
  e.label = label;
  if (!labels.length) e.labels = { [label]: [] };
  document.body.classList.add("answering");
  $("answer-fields").append($("label-list"), $("box-text"));  // the label chips and box, moved over
  $("suggestions").hidden = false;
  $("answer-panel").hidden = false;
  $("segments-panel").hidden = true;
  $("keys-clip").hidden = true;
  $("keys-vod").hidden = false;
  $("preparing").hidden = true;
  video.dataset.proxy = "";
  video.removeAttribute("src");
  if (info.playable) video.src = info.video;
  else video.load();
  findMoments(S.vod);
}

function leaveVod() {
  S.vod = null;
  S.offset = 0;
  document.body.classList.remove("answering");
  $("clip-fields").prepend($("label-list"));
  $("clip-fields").append($("box-text"));
  $("suggestions").hidden = true;
  $("answer-panel").hidden = true;
  $("segments-panel").hidden = false;
  $("keys-clip").hidden = false;
  $("keys-vod").hidden = true;
}

// Where a moment shows what it is about until played: its peak, not the calm lead-in.
function moment(cand) { return cand.peak === null || cand.peak === undefined ? cand.start : cand.peak; }
function current() { return S.vod && S.vod.current >= 0 ? S.vod.candidates[S.vod.current] : null; }
function sameVod(vod) { return S.vod === vod && S.info && S.info.clip === vod.clip; }
const query = (vod, extra = "") => `clip=${encodeURIComponent(vod.clip)}&label=${encodeURIComponent(vod.label)}${extra}`;

// ------------------------------------------------------------------ finding the moments

async function findMoments(vod) {
  try {
    let status = await api("POST", "/api/suggest", { clip: vod.clip, label: vod.label });
    while (status.state === "running" && sameVod(vod)) {
      Object.assign(vod, { state: "running", progress: status.progress, stage: status.stage, notes: status.notes });
      renderVod();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      status = await api("GET", `/api/suggest?${query(vod)}`);
    }
    if (!sameVod(vod)) return;
    if (status.state === "failed") throw new Error(status.error || "could not find moments");
    Object.assign(vod, { state: "ready", candidates: status.candidates, notes: status.notes, leadIn: status.lead_in });
    const first = vod.candidates.findIndex((c) => !c.answer);
    if (vod.candidates.length) select(first >= 0 ? first : 0);
    else say("no moments to ask about: everything suggested is answered already", "ok");
  } catch (err) {
    if (!sameVod(vod)) return;
    Object.assign(vod, { state: "failed", error: err.message });
    say(`finding moments failed: ${err.message}`, "error");
  }
  render();
}

function vodLabel(name) {
  if (!S.vod || S.vod.label === name) return;
  const info = S.info;
  enterVod({ ...info, answer_label: name, label: { ...(info.label || {}), labels: edit().labels,
                                                   counts: S.vod.counts } });
}

// ------------------------------------------------------------------ one moment on screen

function select(index) {
  const vod = S.vod;
  if (!vod || index < 0 || index >= vod.candidates.length) return;
  vod.current = index;
  vod.pendingPlay = false;
  const cand = current();
  vod.view = cand.view;
  vod.spans = {};
  api("GET", `/api/spans?${query(vod, `&start=${cand.view[0]}&end=${cand.view[1]}`)}`)
    .then((data) => { if (current() === cand) { vod.spans = data.spans; render(); } })
    .catch((err) => say(err.message, "error"));
  video.pause();
  if (vod.playback === "preview") showPreview(vod, cand);
  else seek(moment(cand));
  render();
  const item = document.querySelector(`#candidates li[data-index="${index}"]`);
  if (item) item.scrollIntoView({ block: "nearest" });
}

function move(delta) {
  if (S.vod) select(clamp(S.vod.current + delta, 0, S.vod.candidates.length - 1));
}

// The next moment after the one answered: the first unanswered one after it, else simply the next.
function moveOn(from) {
  const list = S.vod.candidates;
  for (let k = from + 1; k < list.length; k++) if (!list[k].answer) { select(k); return; }
  if (from + 1 < list.length) select(from + 1);
  else if (list.every((c) => c.answer)) say(`all ${list.length} moments answered`, "ok");
}

function playMoment() {
  const cand = current();
  if (!cand) return;
  if (S.vod.playback === "preview" && !(S.vod.preview && S.vod.preview.ready)) {
    S.vod.pendingPlay = true;  // plays as soon as its preview is made
    say("preparing a preview of this moment…");
    return;
  }
  seek(cand.start - S.vod.leadIn);  // from a little before: what led up to it tells a reaction apart
  video.play().catch((err) => say(`cannot play: ${err.message}`, "error"));
}

// ------------------------------------------------------------------ previews (browser cannot play the VOD)

async function showPreview(vod, cand) {
  const [start, end] = cand.view;
  vod.preview = { view: cand.view, ready: false };
  S.offset = start;
  video.removeAttribute("src");
  video.load();
  $("preparing").hidden = false;
  try {
    let status = await api("POST", "/api/preview", { clip: vod.clip, start, end });
    // Make the next two while this one plays, so moving on never waits.
    for (const next of vod.candidates.slice(vod.current + 1, vod.current + 3)) {
      api("POST", "/api/preview", { clip: vod.clip, start: next.view[0], end: next.view[1], first: false })
        .catch(() => {});
    }
    while (status.state === "preparing") {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (current() !== cand) return;
      status = await api("GET", `/api/preview?${query(vod, `&start=${start}&end=${end}`)}`);
    }
    if (status.state !== "ready") throw new Error(status.error || "could not make a preview");
    if (current() !== cand || !sameVod(vod)) return;
    S.offset = start;
    video.dataset.proxy = "1";
    video.src = status.url;
    await new Promise((resolve, reject) => {
      video.addEventListener("loadedmetadata", resolve, { once: true });
      video.addEventListener("error", reject, { once: true });
    });
    if (current() !== cand) return;
    vod.preview.ready = true;
    if (vod.pendingPlay) { vod.pendingPlay = false; playMoment(); } else seek(moment(cand));
  } catch (err) {
    if (current() === cand) say(`preview failed: ${err.message || "the browser cannot play it"}`, "error");
  } finally {
    if (current() === cand) $("preparing").hidden = true;
  }
}

function vodPlaybackFailed() {
  if (!S.vod || S.vod.playback === "preview") return;
  S.vod.playback = "preview";  // the file looked playable but is not: fall back to previews
  const cand = current();
  if (cand) showPreview(S.vod, cand);
}

// ------------------------------------------------------------------ answers

function answer(kind, positive = null, advance = true) {
  const vod = S.vod;
  const cand = current();
  if (!cand) return;
  const index = vod.current;
  const before = cand.answer;
  const span = kind === "yes" ? (positive || (before && before.positive) || [cand.start, cand.end]) : null;
  // Shown at once, written in order; only the newest request's reply may replace what is shown,
  // so a slow reply to an earlier answer never undoes a later edge the person just set.
  const seq = cand.seq = (cand.seq || 0) + 1;
  if (!("confirmed" in cand)) cand.confirmed = before;
  cand.answer = { answer: kind, positive: span, saving: true };
  const body = { clip: vod.clip, label: vod.label, start: cand.start, end: cand.end, answer: kind, positive: span };
  vod.queue = vod.queue.then(() => api("POST", "/api/answer", body)).then((data) => {
    cand.confirmed = data.answer;
    if (cand.seq !== seq) return;
    cand.answer = data.answer;
    if (current() === cand) vod.spans = data.spans;
    vod.counts = data.counts;
    S.clips = S.clips.map((row) => (row.clip === data.row.clip ? data.row : row));
    say(`${kind === "yes" ? "reaction" : "calm"} saved to ${data.label_file}`, "ok");
    render();
  }).catch((err) => {
    if (cand.seq === seq) cand.answer = cand.confirmed;
    say(`not saved: ${err.message}`, "error");
    render();
  });
  if (advance) moveOn(index);
  render();
}

// I / O: the reaction starts or ends at the playhead; the answer becomes (or stays) yes.
function markEdge(side) {
  const cand = current();
  if (!cand) return;
  const t = now();
  const old = (cand.answer && cand.answer.positive) || [cand.start, cand.end];
  const span = side === 0 ? [t, Math.max(old[1], t + MIN_SEGMENT)] : [Math.min(old[0], t - MIN_SEGMENT), t];
  answer("yes", span, false);
}

function dragReaction(event, side) {
  event.stopPropagation();
  const cand = current();
  const span = [...cand.answer.positive];
  const [a, b] = view();
  drag(event, (e) => {
    const t = timeAtX(e.clientX);
    if (side === 0) span[0] = clamp(t, a, span[1] - MIN_SEGMENT);
    else span[1] = clamp(t, span[0] + MIN_SEGMENT, b);
    cand.answer = { ...cand.answer, positive: [...span] };
    video.currentTime = span[side] - S.offset;
    render();
  }, () => answer("yes", span, false));
}

async function saveVodBox() {
  const e = edit();
  if (!e.facecam) return;
  try {
    await api("POST", "/api/facecam", { clip: S.vod.clip, label: S.vod.label, facecam: e.facecam });
    e.dirty = false;
    say("face-cam box saved", "ok");
  } catch (err) {
    say(`not saved: ${err.message}`, "error");
  }
  render();
}

// ------------------------------------------------------------------ drawing

function renderVodTimeline() {
  const layer = $("segments-layer");
  layer.replaceChildren();
  const cand = current();
  if (!cand) return;
  const [a, b] = view();
  const place = (node, s, e) => {
    node.style.left = `${(100 * (Math.max(s, a) - a)) / (b - a)}%`;
    node.style.width = `${(100 * (Math.min(e, b) - Math.max(s, a))) / (b - a)}%`;
    layer.append(node);
    return node;
  };
  layer.append(el("span", { class: "view-time start" }, fmtTime(a, 0)), el("span", { class: "view-time end" }, fmtTime(b, 0)));
  const moment = place(el("div", { class: "cand-window", title: "the suggested moment" }), cand.start, cand.end);
  moment.style.borderColor = labelColour(S.vod.label);
  const mine = cand.answer && cand.answer.answer === "yes" ? cand.answer.positive : null;
  for (const [name, spans] of Object.entries(S.vod.spans)) {
    for (const [s, e] of spans.calm) {
      if (name === S.vod.label) place(el("div", { class: "seg calm", title: `${name}: calm` }), s, e);
    }
    for (const [s, e] of spans.segments) {
      if (name === S.vod.label && mine && s < mine[1] && e > mine[0]) continue;  // drawn editable below
      const seg = place(el("div", { class: `seg${name === S.vod.label ? " answered" : " other"}`, title: name,
                                    dataset: { label: name } }), s, e);
      seg.style.background = `${labelColour(name)}${name === S.vod.label ? "77" : ""}`;
    }
  }
  if (mine) {
    const seg = place(el("div", { class: "seg selected reaction", title: "the reaction: drag its edges" },
      el("div", { class: "edge start", title: "drag to move the start (or I)" }),
      el("div", { class: "edge end", title: "drag to move the end (or O)" })), mine[0], mine[1]);
    seg.style.borderColor = labelColour(S.vod.label);
    seg.children[0].addEventListener("pointerdown", (e) => dragReaction(e, 0));
    seg.children[1].addEventListener("pointerdown", (e) => dragReaction(e, 1));
  }
}

function answerText(ans) {
  if (!ans) return "–";
  if (ans.answer === "no") return "✗ calm";
  const [s, e] = ans.positive;
  return `✓ reaction ${fmtTime(s, 1)}–${fmtTime(e, 1)}`;
}

function renderVod() {
  if (!S.vod) return;
  const vod = S.vod;
  const list = $("candidates");
  const finding = vod.state === "running" || vod.state === "absent";
  $("finding").hidden = !finding;
  if (finding) {
    $("finding-bar").style.width = `${Math.round(100 * vod.progress)}%`;
    $("finding-stage").textContent = `${Math.round(100 * vod.progress)} % · ${vod.stage || "starting"}`;
  }
  const yes = vod.candidates.filter((c) => c.answer && c.answer.answer === "yes").length;
  const no = vod.candidates.filter((c) => c.answer && c.answer.answer === "no").length;
  $("answered").textContent = vod.candidates.length
    ? `${yes + no} / ${vod.candidates.length} answered · ${yes} reaction, ${no} calm` : "";
  $("suggest-notes").textContent = (vod.notes || []).join("\n");
  list.replaceChildren();
  vod.candidates.forEach((c, k) => {
    const state = c.answer ? c.answer.answer : "open";
    list.append(el("li", { class: `cand ${state}${k === vod.current ? " active" : ""}`, dataset: { index: k },
                           onclick: () => select(k) },
      el("div", { class: "cand-head" }, el("span", { class: "cand-n" }, `${k + 1}`),
         el("span", { class: "cand-span" }, `${fmtTime(c.start, 1)}–${fmtTime(c.end, 1)}`),
         el("span", { class: "cand-kind" }, c.kind)),
      el("div", { class: "cand-reason" }, c.reason),
      el("div", { class: "cand-answer" }, answerText(c.answer))));
  });
  const cand = current();
  $("answer-label").textContent = vod.label;
  $("answer-label").style.background = labelColour(vod.label);
  $("answer-title").textContent = cand
    ? `moment ${vod.current + 1} of ${vod.candidates.length}: ${fmtTime(cand.start, 1)}–${fmtTime(cand.end, 1)}`
    : vod.state === "failed" ? vod.error : "finding moments…";
  $("answer-reason").textContent = cand ? `${cand.reason} (${cand.kind}, score ${cand.score.toFixed(2)})` : "";
  $("answer-state").textContent = cand ? answerText(cand.answer) : "";
  $("answer-state").className = `answer-state ${cand && cand.answer ? cand.answer.answer : ""}`;
  for (const id of ["ans-play", "ans-yes", "ans-no", "ans-prev", "ans-next"]) $(id).disabled = !cand;
}

const VOD_KEYS = {
  Enter: playMoment,
  y: () => answer("yes"),
  n: () => answer("no"),
  i: () => markEdge(0), "[": () => markEdge(0),
  o: () => markEdge(1), "]": () => markEdge(1),
  ArrowUp: () => move(-1), k: () => move(-1),
  ArrowDown: () => move(1), j: () => move(1),
  Delete: () => {}, Backspace: () => {},
  Home: () => seek(view()[0]), End: () => seek(view()[1]),
};

$("ans-play").addEventListener("click", playMoment);
$("ans-yes").addEventListener("click", () => answer("yes"));
$("ans-no").addEventListener("click", () => answer("no"));
$("ans-prev").addEventListener("click", () => move(-1));
$("ans-next").addEventListener("click", () => move(1));
