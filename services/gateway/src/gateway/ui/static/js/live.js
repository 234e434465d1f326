// Live updates over the gateway's WebSocket (/api/v1/ws), authenticated by the cookie.
//
// One socket per tab, shared by every subscription on the page. Each subscription gets
// the current state first (`onSnapshot(jobs)`), then every change (`onUpdate(job)`).
// When the socket drops it reconnects with backoff and subscribes again: the new
// snapshot resyncs whatever was missed. A gap in an update's `seq` resubscribes too.
// A socket the server closes with 4401 (the session expired) goes to the login page.

import { signIn } from "./api.js";

const BACKOFF_MS = [250, 1000, 2000, 5000, 10000];
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;
const CLOSE_UNAUTHORIZED = 4401;

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
// Handlers: onSnapshot(jobs), onUpdate(job, matches), onError({ code, message }).
// `matches` (list subscriptions) is false once the job has left the filter.
export function subscribe(request, handlers) {
  const subscription = new Subscription(request, handlers);
  subscriptions.set(subscription.ref, subscription);
  if (socket?.readyState === WebSocket.OPEN) sendSubscribe(subscription);
  else connect();
  return subscription;
}

// Open the socket now (the live indicator shows its state on every page).
export function startLive() {
  connect();
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
  opened.addEventListener("open", () => {
    attempt = 0;
    setStatus("live");
    for (const subscription of subscriptions.values()) sendSubscribe(subscription);
    pingTimer = setInterval(ping, PING_EVERY_MS);
  });
  opened.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  opened.addEventListener("close", (event) => {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    socket = null;
    if (event.code === CLOSE_UNAUTHORIZED) signIn();
    else scheduleReconnect();
  });
}

function scheduleReconnect() {
  setStatus("reconnecting");
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt += 1;
  reconnectTimer = setTimeout(
    () => {
      reconnectTimer = null;
      connect();
    },
    base * (0.75 + Math.random() / 2),
  );
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
  if (!subscription) {
    // Closed before its snapshot came: the server still holds it.
    if (message.op === "snapshot") send({ op: "unsubscribe", subscription: message.subscription });
    return;
  }
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
    subscription.handlers.onUpdate?.(message.job, message.matches);
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
