// The review page: look at each selected segment, keep or drop it, nudge its edges, render again,
// and save the decisions as labels so the next training learns from them.
"use strict";

const NUDGE = 0.5;  // seconds per click on an edge button
const R = { data: null, segments: [], vodUrl: null };
const $ = (id) => document.getElementById(id);

function kept() { return R.segments.filter((s) => s.keep); }

function summary() {
  const total = kept().reduce((sum, s) => sum + (s.end - s.start), 0);
  $("summary").textContent = `${R.data.vod} · ${R.segments.length} segments selected · ` +
    `${kept().length} kept · reel about ${fmtTime(total, 1)}`;
}

function renderStrip() {
  const strip = $("strip");
  strip.replaceChildren();
  const total = R.data.duration || Math.max(1, ...R.segments.map((s) => s.end));
  for (const s of R.segments) {
    const block = el("div", { class: `seg${s.keep ? "" : " dropped"}`, title: `#${s.index + 1} ${s.label || ""}`,
      dataset: { label: s.label || "" } });
    if (s.colour && s.keep) { block.style.background = `${s.colour}99`; block.style.borderColor = s.colour; }
    block.style.left = `${(100 * s.start) / total}%`;
    block.style.width = `${Math.max(0.3, (100 * (s.end - s.start)) / total)}%`;
    block.addEventListener("click", () => document.querySelector(`.card[data-index="${s.index}"]`).scrollIntoView({ behavior: "smooth" }));
    strip.append(block);
  }
}

// A reel of several labels: a swatch per label above the strip, in the captions' colours.
function renderLegend() {
  const labels = R.data.labels || [];
  $("legend").hidden = labels.length === 0;
  $("legend").replaceChildren(...labels.map((l) => el("span", { class: "legend-item", dataset: { label: l.name } },
    el("span", { class: "swatch", style: `background: ${l.colour}` }), l.name)));
}

function labelBadge(s) {
  if (!s.colour) return null;
  return el("span", { class: "label-badge", style: `background: ${s.colour}`, dataset: { label: s.label } }, s.label);
}

function scoreText(s) {
  if (s.peak === null) return "no scores";
  const text = el("span", {}, "peak ", el("b", {}, s.peak.toFixed(2)), " · mean ", el("b", {}, s.mean.toFixed(2)));
  if (s.chat) text.append(" · chat ", el("b", {}, s.chat.peak.toFixed(2)), ` (${s.chat.messages} msgs / 5 s)`);
  return text;
}

// Until played, a card shows what it is about: the poster is compile's peak frame and the player
// waits at the peak (a player at the span's start shows the calm first frame of the lead-in).
function peakOf(s) {
  const peak = Number.isFinite(s.peak_time) ? s.peak_time : (s.start + s.end) / 2;
  return clamp(peak, s.start, Math.max(s.start, s.end - 0.05));
}

// What is said in the span as it stands now (compile's transcript.json, with speech captions).
function spokenWords(s) {
  const said = (s.words || []).filter(w => (w.start + w.end) / 2 >= s.start && (w.start + w.end) / 2 < s.end);
  return el("div", { class: "row words muted", title: "what is said (transcript.json)" },
    said.map(w => w.word).join(" "));
}

function card(s) {
  const player = el("video", { preload: "metadata", controls: "", muted: "" });
  if (s.thumb) player.poster = s.thumb;
  if (R.vodUrl) player.src = `${R.vodUrl}#t=${peakOf(s).toFixed(2)}`;
  // Play only the segment: the first play starts at its start, and it stops at its end.
  let begun = false;
  player.addEventListener("play", () => {
    if (!begun || player.currentTime < s.start - 0.05 || player.currentTime >= s.end - 0.05) {
      player.currentTime = s.start;
    }
    begun = true;
  });
  player.addEventListener("timeupdate", () => { if (player.currentTime >= s.end) player.pause(); });
  const nudge = (side, delta) => el("button", { class: "small", title: `move the ${side} ${delta > 0 ? "later" : "earlier"}`,
    dataset: { nudge: `${side}${delta > 0 ? "+" : "-"}` }, onclick: () => move(s, side, delta) },
    `${delta > 0 ? "+" : "−"}${NUDGE}`);
  const toggle = el("button", { class: s.keep ? "on" : "off", dataset: { toggle: "" }, onclick: () => {
    s.keep = !s.keep;
    redraw(s);
  } }, s.keep ? "keep" : "drop");
  const shortBox = el("div", { class: "short" });
  if (s.shortUrl) shortBox.append(el("video", { class: "vertical", controls: "", playsinline: "", src: s.shortUrl }));
  const shortButton = el("button", { class: "small", dataset: { short: "" },
    title: "Make the vertical short of this span as it is now, and play it",
    onclick: () => makeShort(s, shortButton) }, "short ▶");
  return el("div", { class: `card${s.keep ? "" : " dropped"}`, dataset: { index: s.index } },
    player,
    el("div", { class: "row" },
      el("b", {}, `#${s.index + 1}`),
      labelBadge(s),
      el("span", { class: "span grow" }, `${fmtTime(s.start, 1)} – ${fmtTime(s.end, 1)} (${(s.end - s.start).toFixed(1)} s)`),
      shortButton, toggle),
    shortBox,
    el("div", { class: "row" },
      el("span", { class: "score grow" }, scoreText(s))),
    spokenWords(s),
    el("div", { class: "row" },
      el("span", { class: "muted" }, "start"), nudge("start", -NUDGE), nudge("start", NUDGE),
      el("span", { class: "grow" }),
      el("span", { class: "muted" }, "end"), nudge("end", -NUDGE), nudge("end", NUDGE)));
}

// The short is made on the server (shorts/, as `autotosis shorts` would) and played in the card.
async function makeShort(s, button) {
  button.disabled = true;
  say(`making the short of #${s.index + 1}…`);
  try {
    let status = await api("POST", "/api/short", { index: s.index, start: s.start, end: s.end });
    while (status.state === "running") {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await api("GET", `/api/short?index=${s.index}`);
    }
    if (status.state !== "done") throw new Error(status.error || "the short failed");
    s.shortUrl = status.url;
    redraw(s);  // the card, rebuilt now or by a later nudge, shows the short
    const video = document.querySelector(`.card[data-index="${s.index}"] video.vertical`);
    video.play().catch(() => {});  // the browser may want a click first
    say(`short of #${s.index + 1} ready`, "ok");
  } catch (err) {
    say(`no short: ${err.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

function move(s, side, delta) {
  const limit = R.data.duration || Infinity;
  if (side === "start") s.start = clamp(s.start + delta, 0, s.end - 0.1);
  else s.end = clamp(s.end + delta, s.start + 0.1, limit);
  redraw(s);
  const [start, end] = [s.start, s.end];
  const label = encodeURIComponent(s.label || "");
  api("GET", `/api/stats?start=${start}&end=${end}&label=${label}`).then((stats) => {
    if (s.start !== start || s.end !== end) return;  // a later nudge asked again
    Object.assign(s, stats);
    redraw(s);
  }).catch((err) => say(err.message, "error"));
}

// Only the changed card is rebuilt, so the other players keep their place.
function redraw(s) {
  summary();
  renderStrip();
  document.querySelector(`.card[data-index="${s.index}"]`).replaceWith(card(s));
}

function draw() {
  summary();
  renderLegend();
  renderStrip();
  $("cards").replaceChildren(...R.segments.map(card));
}

function showReel() {
  if (!R.data.reel) { $("reel-info").textContent = "not rendered yet"; return; }
  $("reel").src = `${R.data.reel}?v=${Date.now()}`;
  $("reel").addEventListener("loadedmetadata", () => {
    $("reel-info").textContent = `${fmtTime($("reel").duration, 1)}`;
  }, { once: true });
}

async function load() {
  R.data = await api("GET", "/api/review");
  R.segments = R.data.segments.map((s) => ({ ...s }));
  $("current").textContent = R.data.folder;
  if (R.data.plot) { $("plot").src = R.data.plot; $("plot").hidden = false; }
  if (!R.data.vod_exists) say(`the VOD ${R.data.vod} is not there any more: previews are off`, "error");
  else if (R.data.playable) R.vodUrl = `/vod/original${R.data.vod.slice(R.data.vod.lastIndexOf(".")).toLowerCase()}`;
  else await useProxy();
  draw();
  showReel();
}

async function useProxy() {
  say("preparing a browser preview of the VOD…");
  let status = await api("POST", "/api/proxy", {});
  while (status.state === "preparing") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    status = await api("GET", "/api/proxy");
  }
  if (status.state === "ready") { R.vodUrl = "/vod/proxy.mp4"; say("preview ready", "ok"); }
  else say(`preview failed: ${status.error}`, "error");
}

async function render() {
  $("render").disabled = true;
  say("rendering the reel…");
  try {
    let status = await api("POST", "/api/render", {
      segments: R.segments.map((s) => ({ start: s.start, end: s.end, keep: s.keep })),
    });
    while (status.state === "running") {
      await new Promise((resolve) => setTimeout(resolve, 500));
      status = await api("GET", "/api/render");
    }
    if (status.state !== "done") throw new Error(status.error || "render failed");
    const fresh = await api("GET", "/api/review");
    R.data = fresh;
    R.segments = fresh.segments.map((s) => ({ ...s }));
    draw();
    showReel();
    say(`reel rendered from ${kept().length} segments`, "ok");
  } catch (err) {
    say(`not rendered: ${err.message}`, "error");
  } finally {
    $("render").disabled = false;
  }
}

// Every review teaches: kept reactions become positive segments, dropped highlights calm spans.
async function saveLabels() {
  $("save-labels").disabled = true;
  try {
    const saved = await api("POST", "/api/labels", {
      segments: R.segments.map((s) => ({ start: s.start, end: s.end, keep: s.keep })),
    });
    const box = saved.facecam ? "" : " (no face-cam box yet: add one with autotosis label --facecam)";
    say(`saved: ${saved.message}${box}`, "ok");
  } catch (err) {
    say(`labels not saved: ${err.message}`, "error");
  } finally {
    $("save-labels").disabled = false;
  }
}

$("render").addEventListener("click", render);
$("save-labels").addEventListener("click", saveLabels);
load().catch((err) => say(err.message, "error"));
