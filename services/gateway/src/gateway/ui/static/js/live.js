// Live updates over the gateway's WebSocket (/api/v1/ws), authenticated by the cookie.
//
// One socket per tab, shared by every subscription on the page. Each subscription gets
// the current state first (`onSnapshot(jobs)`), then every change (`onUpdate(job)`).
// When the socket drops it reconnects with backoff and subscribes again: the new
// snapshot resyncs whatever was missed. A gap in an update's `seq` resubscribes too.

import { api } from "./api.js";

const BACKOFF_MS = [250, 1000, 2000, 5000, 10000];
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;

let socket = null;
let attempt = 0;
let reconnectTimer = null;
let pingTimer = null;
let pongTimer = null;
let nextRef = 1;
const subscriptions = new Map(); // ref -> Subscription
const statusListeners = new Set();
let status = "connecting";

class Subscription {
  constructor(request, handlers) {
    this.ref = `s${nextRef++}`;
    this.request = request;
    this.handlers = handlers;
    this.id = null; // the server's subscription id, from its snapshot
    this.seq = null;
  }

  close() {
    subscriptions.delete(this.ref);
    if (this.id != null) send({ op: "unsubscribe", subscription: this.id });
  }
}

// `request` is `{ job_id }` or `{ jobs: { type, status, user, created_from, created_to } }`.
// Handlers: onSnapshot(jobs), onUpdate(job), onError({ code, message }).
export function subscribe(request, handlers) {
  const subscription = new Subscription(request, handlers);
  subscriptions.set(subscription.ref, subscription);
  if (socket?.readyState === WebSocket.OPEN) sendSubscribe(subscription);
  else connect();
  return subscription;
}

// `listener(state)` with "connecting", "live" or "reconnecting"; called at once too.
export function onLiveStatus(listener) {
  statusListeners.add(listener);
  listener(status);
}

function setStatus(next) {
  status = next;
  for (const listener of statusListeners) listener(status);
}

function connect() {
  if (socket || reconnectTimer) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const opened = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
  socket = opened;
  let wasOpen = false;
  opened.addEventListener("open", () => {
    wasOpen = true;
    attempt = 0;
    setStatus("live");
    for (const subscription of subscriptions.values()) sendSubscribe(subscription);
    pingTimer = setInterval(ping, PING_EVERY_MS);
  });
  opened.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  opened.addEventListener("close", () => {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    socket = null;
    if (!wasOpen && attempt >= 1) checkSession();
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  setStatus("reconnecting");
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    if (subscriptions.size) connect();
  }, base * (0.75 + Math.random() / 2));
}

// A refused handshake looks like any other drop; ask the API whether the session ended
// (a 401 sends the browser to the login page).
function checkSession() {
  api("/jobs", { query: { limit: 1 } }).catch(() => {});
}

function ping() {
  send({ op: "ping" });
  pongTimer = setTimeout(() => socket?.close(), PONG_WITHIN_MS);
}

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function sendSubscribe(subscription) {
  subscription.id = null;
  subscription.seq = null;
  send({ op: "subscribe", ref: subscription.ref, ...subscription.request });
}

function receive(message) {
  clearTimeout(pongTimer);
  if (message.op === "pong") return;
  const subscription = subscriptionOf(message);
  if (!subscription) return;
  if (message.op === "snapshot") {
    subscription.id = message.subscription;
    subscription.seq = message.seq ?? 0;
    subscription.handlers.onSnapshot?.(message.job ? [message.job] : message.jobs);
  } else if (message.op === "update") {
    if (subscription.seq != null && message.seq !== subscription.seq + 1) {
      send({ op: "unsubscribe", subscription: subscription.id });
      sendSubscribe(subscription);
      return;
    }
    subscription.seq = message.seq;
    subscription.handlers.onUpdate?.(message.job);
  } else if (message.op === "error") {
    subscriptions.delete(subscription.ref);
    subscription.handlers.onError?.(message);
  }
}

function subscriptionOf(message) {
  if (message.ref != null) return subscriptions.get(message.ref);
  for (const subscription of subscriptions.values()) {
    if (subscription.id != null && subscription.id === message.subscription) return subscription;
  }
  return null;
}
