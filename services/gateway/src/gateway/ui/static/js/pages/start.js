// Starting work: upload a document, start an enrichment, crawl or export, and see the
// queue (pending and running jobs, queue depth per type) before adding to it. Jobs
// started here are listed live below the forms.

import { ApiError, api } from "../api.js";
import {
  isStale,
  itemCounter,
  messageArea,
  progressBar,
  statusBadge,
  updateProgressBar,
} from "../components.js";
import { h, pageHeading } from "../dom.js";
import { JOB_TYPES, formatCount, formatTime, shortId } from "../format.js";
import { subscribe } from "../live.js";

const QUEUE_REFRESH_MS = 3000;
const started = []; // jobs started from this page in this tab, newest first
const UPLOAD_TYPES =
  ".csv,.xlsx,.pdf,text/csv,application/pdf,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

export function startPage(outlet) {
  const queue = queuePanel();
  const recent = h("ul", { class: "started-list" });
  const cards = new Map(); // job id -> its card
  const subscriptions = [];

  async function start(request) {
    const job = await request;
    started.unshift(job);
    showStarted();
    queue.refresh();
    return job;
  }

  function showStarted() {
    for (const job of started) {
      if (cards.has(job.id)) continue;
      cards.set(job.id, startedCard(job));
      subscriptions.push(
        subscribe(
          { job_id: job.id },
          { onSnapshot: (jobs) => jobs.forEach(track), onUpdate: track },
        ),
      );
    }
    recent.replaceChildren(
      ...(started.length
        ? started.map((job) => cards.get(job.id).element)
        : [h("li", { class: "muted" }, "Jobs you start appear here with their progress.")]),
    );
  }

  function track(job) {
    const index = started.findIndex((other) => other.id === job.id);
    if (index >= 0 && !isStale(job, started[index])) started[index] = job;
    cards.get(job.id)?.update(job);
  }

  outlet.append(
    pageHeading("Start a job"),
    h(
      "p",
      { class: "lead" },
      "Long-running work runs as a job: start it here and keep working while it runs.",
    ),
    h(
      "div",
      { class: "start-layout" },
      h(
        "div",
        { class: "start-actions" },
        uploadCard(start),
        enrichmentCard(start),
        crawlCard(start),
        exportCard(start),
      ),
      queue.element,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "started-title" },
      h("h2", { id: "started-title" }, "Started here"),
      recent,
    ),
  );
  showStarted();

  return {
    destroy() {
      queue.stop();
      for (const subscription of subscriptions) subscription.close();
    },
  };
}

// A started job's line: link, status, bar and counter, updated in place.
function startedCard(job) {
  const status = h("span");
  const bar = progressBar(job);
  const counter = h("span", { class: "muted" });
  const element = h(
    "li",
    { class: "started-job", "data-job-id": job.id },
    h("a", { href: `/jobs/${job.id}` }, `${JOB_TYPES[job.type]} job ${shortId(job.id)}`),
    status,
    bar,
    counter,
  );
  let shown = null;
  function update(next) {
    if (shown && isStale(next, shown)) return;
    if (next.status !== shown?.status) status.replaceChildren(statusBadge(next.status));
    shown = next;
    updateProgressBar(bar, next);
    counter.textContent = itemCounter(next);
  }
  update(job);
  return { element, update };
}

// A form whose submit is `action(form)`, a promise of the new job; errors show in it.
function actionCard(id, title, description, fields, submitLabel, action) {
  const message = messageArea();
  const submit = h("button", { type: "submit", class: "button button--primary" }, submitLabel);
  const form = h(
    "form",
    { class: "card action-card", "aria-labelledby": id },
    h("h2", { id }, title),
    h("p", { class: "muted" }, description),
    ...fields,
    submit,
    message.element,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.clear();
    try {
      const job = await action(form);
      message.show(
        h(
          "span",
          {},
          "Started ",
          h("a", { href: `/jobs/${job.id}` }, `${JOB_TYPES[job.type]} job ${shortId(job.id)}`),
          ".",
        ),
      );
      form.reset();
    } catch (error) {
      message.show(error instanceof ApiError ? error.message : String(error), "error");
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function labelled(id, label, input, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
  );
}

function uploadCard(start) {
  const input = h("input", {
    type: "file",
    id: "upload-file",
    name: "file",
    accept: UPLOAD_TYPES,
    class: "dropzone-input",
  });
  const zone = h(
    "label",
    { class: "dropzone", for: "upload-file" },
    h("strong", {}, "Drop a file here or choose one"),
    h("span", { class: "muted" }, "CSV, Excel (XLSX) or PDF"),
  );
  const message = messageArea();
  const upload = async (file) => {
    if (!file) return;
    message.show(`Uploading ${file.name}…`);
    const form = new FormData();
    form.append("file", file);
    try {
      const job = await start(api("/documents", { method: "POST", form }));
      message.show(
        h(
          "span",
          {},
          `${file.name} uploaded: `,
          h("a", { href: `/jobs/${job.id}` }, `Document ingestion job ${shortId(job.id)}`),
          " started.",
        ),
      );
    } catch (error) {
      message.show(error instanceof ApiError ? error.message : String(error), "error");
    } finally {
      input.value = "";
    }
  };
  input.addEventListener("change", () => upload(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dropzone--over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dropzone--over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dropzone--over");
    upload(event.dataTransfer.files[0]);
  });
  return h(
    "section",
    { class: "card action-card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload a document"),
    h("p", { class: "muted" }, "Import products from a document: each row becomes a product."),
    input,
    zone,
    message.element,
  );
}

function enrichmentCard(start) {
  const ids = h("textarea", {
    id: "enrich-ids",
    name: "product_ids",
    rows: "3",
    required: true,
    "aria-describedby": "enrich-ids-hint",
  });
  return actionCard(
    "enrich-title",
    "Enrich products",
    "AI-powered enrichment of catalog products.",
    [
      labelled(
        "enrich-ids",
        "Product IDs",
        ids,
        h(
          "span",
          {},
          "One per line or separated by commas. Or pick them on the ",
          h("a", { href: "/products" }, "Products"),
          " page. Very large batches are best split into several jobs.",
        ),
      ),
    ],
    "Start enrichment",
    () => {
      const productIds = ids.value.split(/[\s,]+/).filter(Boolean);
      return start(
        api("/jobs", {
          method: "POST",
          json: { type: "enrichment", params: { product_ids: productIds } },
        }),
      );
    },
  );
}

function crawlCard(start) {
  const url = h("input", {
    id: "crawl-url",
    type: "url",
    required: true,
    placeholder: "https://brand.example/",
  });
  const pages = h("input", {
    id: "crawl-pages",
    type: "number",
    min: "1",
    max: "10000",
    value: "100",
    required: true,
  });
  return actionCard(
    "crawl-title",
    "Crawl a website",
    "Collect product data from a brand's website (same site only).",
    [labelled("crawl-url", "Start URL", url), labelled("crawl-pages", "Max pages", pages)],
    "Start crawl",
    () =>
      start(
        api("/jobs", {
          method: "POST",
          json: { type: "crawl", params: { start_url: url.value, max_pages: Number(pages.value) } },
        }),
      ),
  );
}

function exportCard(start) {
  const format = h(
    "select",
    { id: "export-format" },
    ...["csv", "xlsx", "json"].map((value) => h("option", { value }, value.toUpperCase())),
  );
  return actionCard(
    "export-title",
    "Export products",
    "Export the catalog as a file.",
    [labelled("export-format", "Format", format)],
    "Start export",
    () =>
      start(
        api("/jobs", {
          method: "POST",
          json: { type: "export", params: { format: format.value } },
        }),
      ),
  );
}

// Pending and running jobs of the workspace and the queue depth per type, every 3 s.
function queuePanel() {
  const body = h("tbody");
  const updated = h("p", { class: "hint" });
  const element = h(
    "aside",
    { class: "card queue-panel", "aria-labelledby": "queue-title" },
    h("h2", { id: "queue-title" }, "Job queue"),
    h("p", { class: "muted" }, "Be aware of pending jobs before starting new ones."),
    h(
      "table",
      { class: "queue-table" },
      h("caption", { class: "visually-hidden" }, "Jobs waiting and running per type"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Type"),
          h("th", { scope: "col" }, "Pending"),
          h("th", { scope: "col" }, "Running"),
          h("th", { scope: "col" }, "Queue depth"),
        ),
      ),
      body,
    ),
    h(
      "p",
      { class: "hint" },
      "Pending and running count your workspace's jobs; queue depth counts every job waiting for a worker.",
    ),
    updated,
  );
  let timer = null;
  let stopped = false;
  async function refresh() {
    clearTimeout(timer);
    if (stopped) return;
    try {
      const queue = await api("/queue");
      body.replaceChildren(
        ...queue.types.map((line) =>
          h(
            "tr",
            { "data-type": line.type },
            h("th", { scope: "row" }, JOB_TYPES[line.type] ?? line.type),
            h("td", { class: "number", "data-field": "pending" }, formatCount(line.pending)),
            h(
              "td",
              { class: "number", "data-field": "in_progress" },
              formatCount(line.in_progress),
            ),
            h(
              "td",
              { class: "number", "data-field": "queue_depth" },
              line.queue_depth == null ? "—" : formatCount(line.queue_depth),
            ),
          ),
        ),
      );
      updated.textContent = `Updated ${formatTime(new Date())}`;
    } catch (error) {
      updated.textContent = `The queue could not be read: ${error.message}`;
    }
    if (!stopped) timer = setTimeout(refresh, QUEUE_REFRESH_MS);
  }
  refresh();
  return {
    element,
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
