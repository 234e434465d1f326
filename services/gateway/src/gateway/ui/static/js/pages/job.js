// One job: Overview, Progress, Metadata, Errors and Items, kept live by a job
// subscription; Cancel Job (confirmed in a dialog) and Retry failed items.

import { ApiError, api } from "../api.js";
import {
  durationText,
  everySecond,
  isStale,
  itemCounter,
  messageArea,
  progressBar,
  statusBadge,
  updateProgressBar,
} from "../components.js";
import { confirmDialog } from "../dialog.js";
import { h, pageHeading } from "../dom.js";
import {
  ACTIVE,
  ERROR_CATEGORIES,
  JOB_STATUSES,
  JOB_TYPES,
  TERMINAL,
  formatCount,
  formatDateTime,
  formatDecimal,
  formatDuration,
  formatPercent,
  shortId,
} from "../format.js";
import { subscribe } from "../live.js";
import { navigate } from "../router.js";
import { itemsSection } from "./job-items.js";

const DETAILS_REFRESH_MS = 1000;

// Who is signed in, as the app shell says (`ui/templates/index.html`).
const viewer = document.body.dataset;

// The API's rule (`may_command` in gateway/domain/jobs/commands.py): the submitter or a
// jobs:admin of the tenant. A token without an email leaves the decision to the API.
function mayCommand(job) {
  if (viewer.admin === "true" || !viewer.email) return true;
  return job.user_email.toLowerCase() === viewer.email.toLowerCase();
}

export function jobPage(outlet, { id }) {
  const heading = pageHeading("Job");
  const message = messageArea();
  const announcer = h("p", { class: "visually-hidden", role: "status" });
  const cancelButton = h(
    "button",
    { type: "button", class: "button button--danger", hidden: true, onclick: cancel },
    "Cancel Job",
  );
  const retryButton = h(
    "button",
    { type: "button", class: "button button--primary", hidden: true, onclick: retry },
    "Retry failed items",
  );
  const commandNote = h("p", { class: "command-note", hidden: true });
  const sections = {
    overview: section("overview", "Overview"),
    progress: section("progress", "Progress"),
    metadata: section("metadata", "Metadata"),
    errors: section("errors", "Errors"),
  };
  const items = itemsSection(id);
  outlet.append(
    h("p", { class: "breadcrumb" }, h("a", { href: "/jobs" }, "Jobs")),
    h(
      "div",
      { class: "page-head" },
      heading,
      h("div", { class: "actions" }, cancelButton, retryButton, commandNote),
    ),
    message.element,
    announcer,
    ...Object.values(sections).map((s) => s.element),
    items.element,
  );

  let job = null;
  let receivedAt = 0;
  let updateOverview = null;
  let updateProgress = null;
  let subscription = null;
  let closed = false;
  let metadataKey = "";
  let detailsKey = "";
  let detailsTimer = null;
  let detailsDue = false;

  function show(next) {
    if (closed || (job && isStale(next, job))) return;
    const statusChanged = job && job.status !== next.status;
    job = next;
    receivedAt = performance.now();
    if (statusChanged) announcer.textContent = `Job status: ${JOB_STATUSES[job.status]}`;
    const title = `${JOB_TYPES[job.type] ?? job.type} job`;
    heading.replaceChildren(title, " ", h("span", { class: "job-id" }, shortId(job.id)));
    document.title = `${title} ${shortId(job.id)} · MerchantOps Jobs`;
    const cancellable = ACTIVE.has(job.status);
    const retryable = TERMINAL.has(job.status) && job.failed_items > 0;
    const allowed = mayCommand(job);
    cancelButton.hidden = !(cancellable && allowed);
    retryButton.hidden = !(retryable && allowed);
    commandNote.hidden = allowed || !(cancellable || retryable);
    commandNote.textContent = `Only ${job.user_email || "its submitter"} or an admin can ${
      cancellable ? "cancel" : "retry"
    } this job.`;
    updateOverview ??= overviewView(sections.overview.body, job);
    updateProgress ??= progressView(sections.progress.body, job);
    updateOverview(job, receivedAt);
    updateProgress(job, receivedAt);
    const key = JSON.stringify([
      job.retry_of,
      job.retried_by,
      job.cancel_requested_at,
      job.metadata,
    ]);
    if (key !== metadataKey) {
      metadataKey = key;
      renderMetadata(sections.metadata.body, job);
    }
    const counts = JSON.stringify([
      job.status,
      job.processed_items,
      job.failed_items,
      job.skipped_items,
      job.total_items,
    ]);
    if (counts !== detailsKey) {
      detailsKey = counts;
      refreshDetails();
    }
  }

  // Errors and items are re-read when the job's counts move, at most once a second.
  function refreshDetails() {
    if (detailsTimer) {
      detailsDue = true;
      return;
    }
    loadErrors();
    items.refresh();
    detailsTimer = setTimeout(() => {
      detailsTimer = null;
      if (detailsDue && !closed) {
        detailsDue = false;
        refreshDetails();
      }
    }, DETAILS_REFRESH_MS);
  }

  async function loadErrors() {
    try {
      renderErrors(sections.errors.body, job, await api(`/jobs/${id}/errors`));
    } catch (error) {
      if (!closed)
        sections.errors.body.replaceChildren(
          h("p", { class: "message message--error" }, error.message),
        );
    }
  }

  function notFound() {
    closed = true;
    subscription?.close();
    document.title = "Job not found · MerchantOps Jobs";
    outlet.replaceChildren(
      pageHeading("Job not found"),
      h(
        "p",
        {},
        "There is no job ",
        h("code", {}, id),
        " in your workspace. It may have been mistyped, or it belongs to another workspace.",
      ),
      h("p", {}, h("a", { href: "/jobs" }, "Back to all jobs")),
    );
    outlet.querySelector("h1").focus();
  }

  async function cancel() {
    const confirmed = await confirmDialog({
      title: "Cancel this job?",
      message:
        "Processing of the remaining items stops. Items already processed are kept. The job status changes to “cancelled”.",
      confirmLabel: "Cancel job",
      dismissLabel: "Keep running",
      danger: true,
    });
    if (!confirmed || closed) return;
    cancelButton.disabled = true;
    cancelButton.textContent = "Cancelling…";
    try {
      const answer = await api(`/jobs/${id}/cancel`, { method: "POST" });
      show(answer);
      message.show(
        answer.status === "cancelled"
          ? "The job was cancelled. Items already processed are kept."
          : "The cancel is queued: the job stops shortly. Items already processed are kept.",
      );
      heading.focus(); // the Cancel Job button is gone
    } catch (error) {
      message.show(
        error.status === 409 ? "This job has already finished." : error.message,
        "error",
      );
    } finally {
      cancelButton.disabled = false;
      cancelButton.textContent = "Cancel Job";
    }
  }

  async function retry() {
    retryButton.disabled = true;
    try {
      const created = await api(`/jobs/${id}/retry`, { method: "POST" });
      navigate(`/jobs/${created.id}`);
    } catch (error) {
      message.show(error.message, "error");
      retryButton.disabled = false;
    }
  }

  const stopClock = everySecond(() => {
    if (job?.status === "in_progress") {
      updateOverview(job, receivedAt);
      updateProgress(job, receivedAt);
    }
  });

  api(`/jobs/${id}`)
    .then((found) => {
      show(found);
      subscription = subscribe(
        { job_id: id },
        {
          onSnapshot: (jobs) => jobs.forEach(show),
          onUpdate: show,
          onError: (error) => (error.code === "not_found" ? notFound() : null),
        },
      );
    })
    .catch((error) => {
      if (error instanceof ApiError && error.status === 404) notFound();
      else message.show(error.message, "error");
    });

  return {
    destroy() {
      closed = true;
      stopClock();
      clearTimeout(detailsTimer);
      subscription?.close();
    },
  };
}

function section(name, title) {
  const body = h("div", { class: "section-body" });
  const element = h(
    "section",
    { class: `card section-${name}`, "aria-labelledby": `section-${name}` },
    h("h2", { id: `section-${name}` }, title),
    body,
  );
  return { element, body };
}

function facts(entries) {
  return h(
    "dl",
    { class: "facts" },
    ...entries
      .filter(Boolean)
      .map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

// A definition list whose values change in place (nothing is rebuilt, so animations and
// transitions run on): `set(name, text or node)`.
function liveFacts(listClass, itemClass, terms) {
  const values = {};
  const element = h(
    "dl",
    { class: listClass },
    ...Object.entries(terms).map(([name, term]) => {
      values[name] = h("dd");
      return h("div", { class: itemClass, "data-fact": name }, h("dt", {}, term), values[name]);
    }),
  );
  return {
    element,
    set(name, value) {
      if (typeof value !== "string") values[name].replaceChildren(value);
      else if (values[name].textContent !== value) values[name].textContent = value;
    },
  };
}

// Overview: type, status, timing and progress; returns `update(job, receivedAt)`.
function overviewView(body, job) {
  const facts = liveFacts("facts", null, {
    type: "Type",
    status: "Status",
    created: "Submitted",
    started: "Started",
    finished: "Finished",
    duration: "Duration",
    progress: "Progress",
  });
  const bar = progressBar(job, { label: "Overall progress" });
  const percent = h("span");
  facts.set("progress", h("span", { class: "inline-progress" }, bar, percent));
  body.replaceChildren(facts.element);
  let shownStatus = null;
  return (job, receivedAt) => {
    const time = (iso, otherwise) => (iso ? formatDateTime(iso, { seconds: true }) : otherwise);
    facts.set("type", JOB_TYPES[job.type] ?? job.type);
    if (job.status !== shownStatus) facts.set("status", statusBadge(job.status));
    shownStatus = job.status;
    facts.set("created", time(job.created_at));
    facts.set("started", time(job.started_at, "Not started yet"));
    facts.set("finished", time(job.finished_at, "—"));
    facts.set("duration", durationText(job, receivedAt));
    updateProgressBar(bar, job);
    percent.textContent = formatPercent(job.progress_pct);
  };
}

// Progress: the bar, "45 of 100 items processed" and the statistics.
function progressView(body, job) {
  const bar = progressBar(job, { label: "Items processed" });
  const counter = h("span", { "data-testid": "item-counter" });
  const others = h("span");
  const stats = liveFacts("stats", "stat", {
    total: "Total Items",
    processed: "Processed",
    failed: "Failed",
    progress: "Progress %",
    success: "Success Rate",
    eta: "Estimated Time",
    elapsed: "Time Elapsed",
    rate: "Processing Rate",
  });
  body.replaceChildren(bar, h("p", { class: "counter" }, counter, others), stats.element);
  return (job, receivedAt) => {
    updateProgressBar(bar, job);
    counter.textContent = itemCounter(job);
    const rest = [
      job.failed_items ? `${formatCount(job.failed_items)} failed` : null,
      job.skipped_items ? `${formatCount(job.skipped_items)} skipped` : null,
    ].filter(Boolean);
    others.textContent = rest.map((part) => ` · ${part}`).join("");
    stats.set("total", formatCount(job.total_items));
    stats.set("processed", formatCount(job.processed_items));
    stats.set("failed", formatCount(job.failed_items));
    stats.set("progress", formatPercent(job.progress_pct));
    stats.set("success", formatPercent(job.success_rate));
    stats.set("eta", estimate(job, receivedAt));
    stats.set("elapsed", durationText(job, receivedAt));
    const rate = job.items_per_minute;
    stats.set(
      "rate",
      rate == null
        ? "—"
        : h("span", {}, `${formatDecimal(rate)} `, h("span", { class: "unit" }, "items/min")),
    );
  };
}

// The remaining time, counted down between updates; words when there is no estimate.
function estimate(job, receivedAt) {
  if (TERMINAL.has(job.status)) return "Done";
  if (job.eta_seconds == null) return job.status === "pending" ? "Waiting to start" : "Estimating…";
  const left = job.eta_seconds - (performance.now() - receivedAt) / 1000;
  return left > 0 ? `about ${formatDuration(left)}` : "Almost done";
}

function renderMetadata(body, job) {
  const params = job.params ?? {};
  const meta = job.metadata ?? {};
  const jobLink = (other) => h("a", { href: `/jobs/${other}` }, shortId(other));
  const products = params.product_ids ?? [];
  body.replaceChildren(
    facts([
      ["Submitted by", job.user_email],
      ["Job ID", h("code", {}, job.id)],
      meta.file_name && ["File", meta.file_name],
      meta.size_bytes != null && ["File size", `${formatCount(meta.size_bytes)} bytes`],
      params.start_url && [
        "Start URL",
        h(
          "a",
          { href: params.start_url, rel: "noopener noreferrer", target: "_blank" },
          params.start_url,
        ),
      ],
      params.max_pages != null && ["Max pages", formatCount(params.max_pages)],
      products.length > 0 && [
        "Products",
        `${formatCount(products.length)}: ${products.slice(0, 5).join(", ")}${products.length > 5 ? ", …" : ""}`,
      ],
      params.format && ["Export format", params.format.toUpperCase()],
      params.retry_items && ["Items retried", formatCount(params.retry_items.length)],
      job.retry_of && ["Retry of", jobLink(job.retry_of)],
      job.retried_by?.length > 0 && [
        "Retried by",
        h("span", { class: "links" }, ...job.retried_by.map(jobLink)),
      ],
      job.cancel_requested_at && [
        "Cancel requested",
        formatDateTime(job.cancel_requested_at, { seconds: true }),
      ],
      [
        "Parameters",
        h(
          "details",
          {},
          h("summary", {}, "Show all"),
          h("pre", {}, JSON.stringify(params, null, 2)),
        ),
      ],
    ]),
  );
}

function renderErrors(body, job, errors) {
  const parts = [];
  if (errors.job_error) {
    const guidance = errors.job_error_guidance;
    parts.push(
      h(
        "div",
        { class: "job-error" },
        h("h3", {}, "The job failed"),
        h("p", {}, errors.job_error),
        guidance && advice(guidance),
      ),
    );
  }
  for (const group of errors.groups) {
    parts.push(
      h(
        "article",
        { class: "error-group", "data-category": group.category },
        h(
          "h3",
          {},
          ERROR_CATEGORIES[group.category] ?? group.category,
          " ",
          h(
            "span",
            { class: "count" },
            `${formatCount(group.count)} ${group.count === 1 ? "item" : "items"}`,
          ),
        ),
        advice(group),
        h("ul", { class: "examples", "aria-label": "Examples" }, ...group.examples.map(example)),
      ),
    );
  }
  if (!parts.length) {
    parts.push(
      h("p", { class: "muted" }, TERMINAL.has(job.status) ? "No errors." : "No errors so far."),
    );
  }
  body.replaceChildren(...parts);
}

// "Row 8: price 'abc' is not a number": the item's label, unless its message starts with it.
function example(item) {
  const label = item.label || item.item_id;
  const text = item.error?.message ?? "";
  return h("li", {}, text.startsWith(label) ? text : `${label}: ${text}`);
}

function advice({ cause, fix }) {
  return h(
    "dl",
    { class: "advice" },
    h("div", {}, h("dt", {}, "Cause"), h("dd", {}, cause)),
    h("div", {}, h("dt", {}, "Fix"), h("dd", {}, fix)),
  );
}
