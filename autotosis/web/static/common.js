// Shared by both pages: the API helper (with the per-run token), time formatting, small DOM helpers.
"use strict";

const TOKEN = document.querySelector('meta[name="autotosis-token"]').content;

class ApiError extends Error {
  constructor(status, data) {
    super((data && data.error) || `request failed (${status})`);
    this.status = status;
    this.data = data || {};
  }
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["X-Autotosis-Token"] = TOKEN;
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function fmtTime(seconds, decimals = 2) {
  if (!Number.isFinite(seconds)) return "–";
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  const minutes = Math.floor(s / 60);
  const rest = (s - minutes * 60).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, "0");
  if (minutes < 60) return `${sign}${minutes}:${rest}`;
  return `${sign}${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}:${rest}`;  // a VOD's hours
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

// A toast-like status line: kind is "info", "ok" or "error"; errors stay until replaced.
function say(message, kind = "info") {
  const box = document.getElementById("message");
  box.textContent = message;
  box.className = `message ${kind}`;
  clearTimeout(say.timer);
  if (kind !== "error") say.timer = setTimeout(() => { box.textContent = ""; box.className = "message"; }, 4000);
}

// Drag helper: calls move(event) on every pointer move until release, then done(event).
function drag(event, move, done) {
  event.preventDefault();
  const target = event.currentTarget || event.target;
  if (target.setPointerCapture) { try { target.setPointerCapture(event.pointerId); } catch (e) { /* synthetic */ } }
  const onMove = (e) => move(e);
  const onUp = (e) => {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    if (done) done(e);
  };
  window.addEventListener("pointermove", onMove);
  window.addEventListener("pointerup", onUp);
}
