// Pieces several pages share: the status badge, the progress bar, the item counter,
// a pager, messages, and the running clock of a job's duration.

import { h } from "./dom.js";
import { JOB_STATUSES, formatCount, formatDuration, formatPercent } from "./format.js";

// The status in colour and in words: gray pending, animated blue in_progress, green
// completed, yellow partial_success, red failed, gray cancelled.
export function statusBadge(status, labels = JOB_STATUSES) {
  return h(
    "span",
    { class: `status status--${status}`, "data-status": status },
    h("span", { class: "status-dot", "aria-hidden": "true" }),
    labels[status] ?? status,
  );
}

// Succeeded items fill the bar in the status colour, failed ones in red after them.
export function progressBar(job, { label = "Progress" } = {}) {
  const bar = h("div", {
    class: `progress progress--${job.status}`,
    role: "progressbar",
    "aria-label": label,
    "aria-valuemin": "0",
    "aria-valuemax": "100",
  });
  bar.append(h("span", { class: "progress-done" }), h("span", { class: "progress-failed" }));
  updateProgressBar(bar, job);
  return bar;
}

export function updateProgressBar(bar, job) {
  const total = job.total_items || 0;
  const share = (n) => (total ? Math.min(100, (n / total) * 100) : 0);
  bar.className = `progress progress--${job.status}`;
  bar.setAttribute("aria-valuenow", String(job.progress_pct));
  bar.setAttribute("aria-valuetext", `${formatPercent(job.progress_pct)}, ${itemCounter(job)}`);
  bar.children[0].style.width = `${share(job.processed_items)}%`;
  bar.children[1].style.width = `${share(job.failed_items)}%`;
}

// "45 of 100 items processed" (processed = succeeded, as the Processed statistic).
export function itemCounter(job) {
  const noun = job.total_items === 1 ? "item" : "items";
  return `${formatCount(job.processed_items)} of ${formatCount(job.total_items)} ${noun} processed`;
}

// A job's duration now: the server's figure plus the time since it was received, while
// the job runs (immune to a skewed client clock).
export function durationText(job, receivedAt) {
  if (job.duration_seconds == null || job.status !== "in_progress") {
    return formatDuration(job.duration_seconds);
  }
  return formatDuration(job.duration_seconds + (performance.now() - receivedAt) / 1000);
}

// Previous / Next buttons; `onMove(-1 | 1)`. Returns the element and `set(hasPrevious, hasNext)`.
export function pager(label, onMove) {
  const previous = h(
    "button",
    { type: "button", class: "button", onclick: () => onMove(-1) },
    "Previous",
  );
  const next = h("button", { type: "button", class: "button", onclick: () => onMove(1) }, "Next");
  const element = h("nav", { class: "pager", "aria-label": label }, previous, next);
  return {
    element,
    set(hasPrevious, hasNext) {
      previous.disabled = !hasPrevious;
      next.disabled = !hasNext;
      element.hidden = !hasPrevious && !hasNext;
    },
  };
}

// A message area: `show(text, kind)` with kind "error" (announced at once) or "info".
export function messageArea() {
  const element = h("div", { class: "message", role: "status", "aria-live": "polite" });
  element.hidden = true;
  return {
    element,
    show(content, kind = "info") {
      element.className = `message message--${kind}`;
      element.setAttribute("role", kind === "error" ? "alert" : "status");
      element.replaceChildren(content);
      element.hidden = false;
    },
    clear() {
      element.hidden = true;
      element.replaceChildren();
    },
  };
}

// An update older than the copy already shown (a late REST answer after a live update).
export function isStale(job, shown) {
  return new Date(job.updated_at) < new Date(shown.updated_at);
}

// Calls `tick` every second until `stop()`.
export function everySecond(tick) {
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}
