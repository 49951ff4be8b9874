// The live page: each highlight as `autotosis live` cuts it, pushed by the server (Server-Sent
// Events, newest first). EventSource reconnects by itself and sends the id of the last clip it
// got, so the server sends only the clips cut since; nothing here polls or reloads.
"use strict";

const $ = (id) => document.getElementById(id);

function card(c) {
  const player = el("video", { preload: "metadata", controls: "", muted: "", src: c.url });
  return el("div", { class: "card", dataset: { n: c.n, file: c.file } },
    player,
    el("div", { class: "row" },
      el("b", {}, `#${c.n}`),
      el("span", { class: "span grow" }, `${fmtTime(c.start, 1)} – ${fmtTime(c.end, 1)}`),
      el("span", { class: "muted" }, c.label)),
    el("div", { class: "row score" }, "peak ", el("b", {}, c.peak.toFixed(2)),
      ` · ${(c.end - c.start).toFixed(1)} s`,
      c.short ? el("a", { class: "short", href: c.short, target: "_blank" }, " · short") : null));
}

function addClip(c) {
  if (document.querySelector(`.card[data-n="${c.n}"]`)) return;  // shown already: never twice
  $("waiting").hidden = true;
  $("cards").prepend(card(c));
  // A later moment joined an earlier clip: the earlier card stays (it may be posted already), marked.
  for (const file of c.replaces || []) {
    const old = document.querySelector(`.card[data-file="${CSS.escape(file)}"]`);
    if (old && !old.classList.contains("replaced")) {
      old.classList.add("replaced");
      old.append(el("div", { class: "row muted" }, `replaced by #${c.n}, which holds the moment after it too`));
    }
  }
}

function showStatus(s) {
  $("status").textContent = `live ${fmtTime(s.edge, 0)} · behind ${s.delay.toFixed(1)}s · ` +
    `cpu ${s.cores.toFixed(2)} cores · ${s.clips} clip(s)`;
}

function showEnd(end) {
  $("ended").hidden = false;
  $("ended-text").textContent = end.message;
  $("review-link").hidden = !end.review;
  if (end.review) $("review-link").href = end.review;
  $("status").textContent = `stream ended (${end.ended}) · ${end.clips} clip(s)`;
  if (!$("cards").children.length) $("waiting").textContent = "The stream ended without a highlight.";
}

const source = new EventSource(`/api/live/events?token=${encodeURIComponent(TOKEN)}`);
source.addEventListener("clip", (e) => addClip(JSON.parse(e.data)));
source.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
source.addEventListener("end", (e) => { source.close(); showEnd(JSON.parse(e.data)); say("stream ended", "ok"); });
source.addEventListener("open", () => { if ($("message").classList.contains("error")) say("connected again", "ok"); });
source.addEventListener("error", () => {
  if (source.readyState === EventSource.CONNECTING) say("connection lost: reconnecting…", "error");
  else if (source.readyState === EventSource.CLOSED) say("the live page's server has stopped", "error");
});
