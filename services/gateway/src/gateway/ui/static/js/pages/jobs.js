// The jobs list: newest first, filtered by type, status, user and date range (kept in the
// URL), paged by cursor, and live: a filter subscription updates the rows in place and
// adds new jobs to the first page.

import { ApiError, api } from "../api.js";
import {
  durationText,
  everySecond,
  isStale,
  messageArea,
  pager,
  progressBar,
  statusBadge,
  updateProgressBar,
} from "../components.js";
import { h, pageHeading } from "../dom.js";
import {
  JOB_STATUSES,
  JOB_TYPES,
  formatCount,
  formatDateTime,
  formatPercent,
  localDayStart,
  shortId,
} from "../format.js";
import { subscribe } from "../live.js";
import { setQuery } from "../router.js";

const PAGE_SIZE = 25;
const FILTERS = ["type", "status", "user", "from", "to"];

export function jobsPage(outlet, _params, url) {
  const message = messageArea();
  const form = filterForm(setQuery);
  const rows = new Map(); // job id -> { job, receivedAt, row, cells }
  const body = h("tbody");
  const empty = h("p", { class: "empty", hidden: true });
  const table = h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "jobs-table" },
      h("caption", { class: "visually-hidden" }, "Jobs, newest first"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Job", "Status", "Progress", "Items", "Started", "Duration"].map((name) =>
            h("th", { scope: "col" }, name),
          ),
        ),
      ),
      body,
    ),
  );
  const pages = pager("Pages of jobs", move);
  outlet.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        pageHeading("Jobs"),
        h(
          "p",
          { class: "lead" },
          "Monitor background tasks like product enrichment, document ingestion, and exports in real-time.",
        ),
      ),
      h("a", { class: "button button--primary", href: "/start" }, "Start a job"),
    ),
    form.element,
    message.element,
    table,
    empty,
    pages.element,
  );

  let filters = {};
  let cursor = null; // this page's cursor; null on the first page
  let trail = []; // cursors of the pages before this one
  let nextCursor = null;
  let subscription = null;
  let loading = 0;

  async function load(target) {
    filters = readFilters(target);
    cursor = target.searchParams.get("cursor");
    trail = history.state?.trail ?? (cursor ? [null] : []);
    form.show(filters);
    const ticket = ++loading;
    table.setAttribute("aria-busy", "true");
    subscription?.close();
    subscription = null;
    try {
      const page = await api("/jobs", {
        query: { ...apiFilters(filters), limit: PAGE_SIZE, cursor },
      });
      if (ticket !== loading) return;
      message.clear();
      rows.clear();
      body.replaceChildren();
      for (const job of page.jobs) addRow(job);
      nextCursor = page.next_cursor;
      pages.set(cursor != null, nextCursor != null);
      showEmpty();
      subscription = subscribe(
        { jobs: apiFilters(filters) },
        { onSnapshot: resync, onUpdate: apply },
      );
    } catch (error) {
      if (ticket !== loading) return;
      message.show(
        error instanceof ApiError ? error.message : "The jobs could not be loaded.",
        "error",
      );
    } finally {
      if (ticket === loading) table.removeAttribute("aria-busy");
    }
  }

  // The snapshot after every (re)subscribe resyncs the rows, as any update does. The
  // server sends only jobs that match the filter, and once `matches: false` for a row
  // whose job has left it.
  function resync(jobs) {
    for (const job of jobs) apply(job);
  }

  function apply(job, matches = true) {
    const shown = rows.get(job.id);
    if (shown && matches === false) {
      shown.row.remove();
      rows.delete(job.id);
      showEmpty();
    } else if (shown) {
      if (isStale(job, shown.job)) return;
      shown.job = job;
      shown.receivedAt = performance.now();
      fillRow(shown);
    } else if (matches !== false && cursor == null && belongsHere(job)) {
      addRow(job);
      showEmpty();
    }
  }

  // A job not shown belongs on this (first) page if the page holds every job there is,
  // or if it is newer than the oldest row: older jobs are on later pages.
  function belongsHere(job) {
    if (nextCursor == null && rows.size < PAGE_SIZE) return true;
    return [...rows.values()].some((entry) => newer(job, entry.job));
  }

  // Rows stay newest first: a row goes before the first older one.
  function addRow(job) {
    const link = h(
      "a",
      { href: `/jobs/${job.id}`, class: "job-link" },
      JOB_TYPES[job.type] ?? job.type,
    );
    const cells = {
      status: h("td", { "data-label": "Status" }),
      progress: h("td", { "data-label": "Progress" }),
      items: h("td", { class: "number", "data-label": "Items" }),
      started: h("td", { "data-label": "Started" }),
      duration: h("td", { class: "number", "data-label": "Duration" }),
    };
    const row = h(
      "tr",
      { "data-job-id": job.id },
      h(
        "th",
        { scope: "row" },
        link,
        h("span", { class: "job-id", title: job.id }, shortId(job.id)),
      ),
      ...Object.values(cells),
    );
    const older = [...rows.values()].find((entry) => newer(job, entry.job));
    const entry = { job, receivedAt: performance.now(), row, cells };
    rows.set(job.id, entry);
    fillRow(entry);
    body.insertBefore(row, older?.row ?? null);
  }

  function fillRow({ job, receivedAt, cells }) {
    cells.status.replaceChildren(statusBadge(job.status));
    const bar = cells.progress.querySelector(".progress");
    if (bar) updateProgressBar(bar, job);
    else
      cells.progress.append(
        h(
          "div",
          { class: "progress-cell" },
          progressBar(job),
          h("span", { class: "progress-pct" }),
        ),
      );
    cells.progress.querySelector(".progress-pct").textContent = formatPercent(job.progress_pct);
    cells.items.textContent = `${formatCount(job.processed_items)} / ${formatCount(job.total_items)}`;
    cells.started.textContent = job.started_at ? formatDateTime(job.started_at) : "Not started";
    cells.duration.textContent = durationText(job, receivedAt);
  }

  function showEmpty() {
    empty.hidden = rows.size > 0;
    const filtered = FILTERS.some((name) => filters[name]);
    empty.replaceChildren(
      filtered
        ? "No jobs match these filters."
        : h("span", {}, "No jobs yet. ", h("a", { href: "/start" }, "Start a job"), "."),
    );
  }

  function move(step) {
    const query = Object.fromEntries(FILTERS.map((name) => [name, filters[name]]));
    if (step > 0)
      setQuery({ ...query, cursor: nextCursor }, { state: { trail: [...trail, cursor] } });
    else setQuery({ ...query, cursor: trail.at(-1) }, { state: { trail: trail.slice(0, -1) } });
  }

  const stopClock = everySecond(() => {
    for (const entry of rows.values()) {
      if (entry.job.status === "in_progress")
        entry.cells.duration.textContent = durationText(entry.job, entry.receivedAt);
    }
  });

  load(url);
  return {
    update: load,
    destroy() {
      loading++;
      stopClock();
      subscription?.close();
    },
  };
}

function filterForm(onApply) {
  const select = (name, label, all, options) =>
    field(
      label,
      h(
        "select",
        { name, id: `filter-${name}` },
        h("option", { value: "" }, all),
        ...Object.entries(options).map(([value, text]) => h("option", { value }, text)),
      ),
    );
  const controls = {
    type: select("type", "Type", "All types", JOB_TYPES),
    status: select("status", "Status", "All statuses", JOB_STATUSES),
    user: field(
      "User",
      h("input", {
        name: "user",
        id: "filter-user",
        type: "email",
        placeholder: "name@company.com",
        autocomplete: "off",
      }),
    ),
    from: field("From", h("input", { name: "from", id: "filter-from", type: "date" })),
    to: field("To", h("input", { name: "to", id: "filter-to", type: "date" })),
  };
  const clear = h(
    "button",
    { type: "button", class: "button button--quiet", onclick: () => onApply({}) },
    "Clear filters",
  );
  const element = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter jobs" },
    ...Object.values(controls).map((control) => control.wrapper),
    h(
      "div",
      { class: "filters-actions" },
      h("button", { type: "submit", class: "button" }, "Apply"),
      clear,
    ),
  );
  const values = () =>
    Object.fromEntries(Object.entries(controls).map(([name, c]) => [name, c.input.value.trim()]));
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    if (element.reportValidity()) onApply(values());
  });
  for (const name of ["type", "status", "from", "to"]) {
    controls[name].input.addEventListener("change", () => onApply(values()));
  }
  return {
    element,
    show(filters) {
      for (const [name, control] of Object.entries(controls))
        control.input.value = filters[name] ?? "";
      clear.hidden = !FILTERS.some((name) => filters[name]);
    },
  };
}

function field(label, input) {
  return {
    input,
    wrapper: h("div", { class: "field" }, h("label", { for: input.id }, label), input),
  };
}

function readFilters(url) {
  return Object.fromEntries(FILTERS.map((name) => [name, url.searchParams.get(name) ?? ""]));
}

// The list's filters as the API and the WebSocket take them: dates are whole days where
// the user is, `to` included.
function apiFilters({ type, status, user, from, to }) {
  return {
    type: type ? [type] : [],
    status: status ? [status] : [],
    user: user || undefined,
    created_from: from ? localDayStart(from) : undefined,
    created_to: to ? localDayStart(to, 1) : undefined,
  };
}

function newer(a, b) {
  return a.created_at === b.created_at
    ? a.id > b.id
    : new Date(a.created_at) > new Date(b.created_at);
}
