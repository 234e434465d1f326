// Job history over a chosen period (GET /stats): jobs created per bucket by status,
// item success rate, and per type the p50/p95 duration and items per minute of
// finished jobs. The period, bucket and type are kept in the URL.

import { api } from "../api.js";
import { lineChart, stackedBars } from "../charts.js";
import { messageArea } from "../components.js";
import { h, pageHeading } from "../dom.js";
import {
  JOB_STATUSES,
  JOB_TYPES,
  dayValue,
  formatCount,
  formatDecimal,
  formatDuration,
  formatPercent,
  localDayStart,
} from "../format.js";
import { setQuery } from "../router.js";

const PERIODS = {
  7: "Last 7 days",
  30: "Last 30 days",
  90: "Last 90 days",
  custom: "Custom range",
};
const MAX_HOUR_DAYS = 31;
const DAY = 86400000;
const STATUS_ORDER = [
  "completed",
  "partial_success",
  "failed",
  "cancelled",
  "in_progress",
  "pending",
];
const dayLabel = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const hourLabel = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
});

export function historyPage(outlet, _params, url) {
  const controls = periodForm();
  const message = messageArea();
  const results = h("div", { class: "history-results" });
  outlet.append(
    pageHeading("History"),
    h(
      "p",
      { class: "lead" },
      "Analyze job performance over time: every job is kept, from any period.",
    ),
    controls.element,
    message.element,
    results,
  );
  let ticket = 0;

  async function load(target) {
    const choice = readChoice(target);
    controls.show(choice);
    const range = rangeOf(choice);
    const mine = ++ticket;
    results.setAttribute("aria-busy", "true");
    try {
      const stats = await api("/stats", {
        query: {
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          bucket: choice.bucket,
          type: choice.type,
        },
      });
      if (mine !== ticket) return;
      message.clear();
      results.replaceChildren(...render(stats));
    } catch (error) {
      if (mine === ticket) message.show(error.message, "error");
    } finally {
      if (mine === ticket) results.removeAttribute("aria-busy");
    }
  }

  load(url);
  return {
    update: load,
    destroy() {
      ticket++;
    },
  };
}

function readChoice(url) {
  const get = (name, fallback) => url.searchParams.get(name) || fallback;
  const period = get("period", "30") in PERIODS ? get("period", "30") : "30";
  const today = dayValue(new Date());
  const choice = {
    period,
    from: get("from", dayValue(new Date(Date.now() - 6 * DAY))),
    to: get("to", today),
    bucket: get("bucket", "day") === "hour" ? "hour" : "day",
    type: get("type", ""),
  };
  if (choice.bucket === "hour" && spanDays(choice) > MAX_HOUR_DAYS) choice.bucket = "day";
  return choice;
}

function rangeOf({ period, from, to }) {
  if (period === "custom")
    return { from: new Date(localDayStart(from)), to: new Date(localDayStart(to, 1)) };
  const end = new Date();
  return { from: new Date(end - Number(period) * DAY), to: end };
}

function spanDays(choice) {
  const { from, to } = rangeOf(choice);
  return (to - from) / DAY;
}

function periodForm() {
  const radios = (name, options) =>
    Object.entries(options).map(([value, label]) =>
      h("label", { class: "choice" }, h("input", { type: "radio", name, value }), label),
    );
  const from = h("input", { type: "date", id: "history-from", name: "from" });
  const to = h("input", { type: "date", id: "history-to", name: "to" });
  const custom = h(
    "div",
    { class: "custom-range" },
    h("div", { class: "field" }, h("label", { for: "history-from" }, "From"), from),
    h("div", { class: "field" }, h("label", { for: "history-to" }, "To"), to),
  );
  const type = h(
    "select",
    { id: "history-type", name: "type" },
    h("option", { value: "" }, "All types"),
    ...Object.entries(JOB_TYPES).map(([value, label]) => h("option", { value }, label)),
  );
  const element = h(
    "form",
    { class: "filters history-form", "aria-label": "Period" },
    h("fieldset", { class: "choices" }, h("legend", {}, "Period"), ...radios("period", PERIODS)),
    custom,
    h(
      "fieldset",
      { class: "choices" },
      h("legend", {}, "Group by"),
      ...radios("bucket", { day: "Day", hour: "Hour" }),
    ),
    h("div", { class: "field" }, h("label", { for: "history-type" }, "Type"), type),
  );
  const hour = element.querySelector('input[name="bucket"][value="hour"]');
  element.addEventListener("change", () => {
    const data = new FormData(element);
    const period = data.get("period");
    setQuery({
      period,
      from: period === "custom" ? data.get("from") : "",
      to: period === "custom" ? data.get("to") : "",
      bucket: data.get("bucket"),
      type: data.get("type"),
    });
  });
  return {
    element,
    show(choice) {
      element.querySelector(`input[name="period"][value="${choice.period}"]`).checked = true;
      element.querySelector(`input[name="bucket"][value="${choice.bucket}"]`).checked = true;
      custom.hidden = choice.period !== "custom";
      from.value = choice.from;
      to.value = choice.to;
      type.value = choice.type;
      hour.disabled = spanDays({ ...choice, bucket: "hour" }) > MAX_HOUR_DAYS;
      hour.parentElement.title = hour.disabled
        ? `Hours are available for periods up to ${MAX_HOUR_DAYS} days`
        : "";
    },
  };
}

function render(stats) {
  const hourly = stats.bucket === "hour";
  const labels = stats.buckets.map((b) =>
    (hourly ? hourLabel : dayLabel).format(new Date(b.start)),
  );
  const totals = Object.fromEntries(
    STATUS_ORDER.map((s) => [s, stats.buckets.reduce((n, b) => n + b.created[s], 0)]),
  );
  const all = Object.values(totals).reduce((a, b) => a + b, 0);
  const types = Object.keys(JOB_TYPES).filter((t) =>
    stats.buckets.some((b) => b.types.some((p) => p.type === t && p.finished)),
  );
  const perType = (field, quantile) => (type) =>
    stats.buckets.map((b) => b.types.find((p) => p.type === type)?.[field]?.[quantile] ?? null);
  const byType = (field) =>
    types.flatMap((type) => [
      { name: type, label: `${JOB_TYPES[type]} p50`, values: perType(field, "p50")(type) },
      {
        name: type,
        label: `${JOB_TYPES[type]} p95`,
        values: perType(field, "p95")(type),
        dashed: true,
      },
    ]);
  const unit = hourly ? "hour" : "day";
  const noFinished = h("p", { class: "muted" }, "No finished jobs in this period.");
  return [
    h(
      "dl",
      { class: "stats summary" },
      h("div", { class: "stat" }, h("dt", {}, "Jobs"), h("dd", {}, formatCount(all))),
      ...["completed", "partial_success", "failed", "cancelled"].map((s) =>
        h(
          "div",
          { class: "stat" },
          h("dt", {}, JOB_STATUSES[s]),
          h("dd", {}, formatCount(totals[s])),
        ),
      ),
    ),
    h(
      "div",
      { class: "charts" },
      h(
        "section",
        { class: "card" },
        stackedBars({
          title: `Jobs created per ${unit}, by status`,
          labels,
          series: STATUS_ORDER.map((s) => ({
            name: s,
            label: JOB_STATUSES[s],
            values: stats.buckets.map((b) => b.created[s]),
          })),
          format: formatCount,
        }),
        numbers(stats, labels),
      ),
      h(
        "section",
        { class: "card" },
        lineChart({
          title: "Success rate of items",
          labels,
          series: [
            {
              name: "success",
              label: "Success rate",
              values: stats.buckets.map((b) => b.success_rate),
            },
          ],
          format: formatPercent,
          max: 100,
        }),
      ),
      h(
        "section",
        { class: "card" },
        types.length
          ? lineChart({
              title: "Duration of finished jobs (p50, p95)",
              labels,
              series: byType("duration_seconds"),
              format: seconds,
            })
          : [h("h2", { class: "chart-title" }, "Duration of finished jobs"), noFinished],
      ),
      h(
        "section",
        { class: "card" },
        types.length
          ? lineChart({
              title: "Items per minute of finished jobs (p50, p95)",
              labels,
              series: byType("items_per_minute"),
              format: formatDecimal,
            })
          : [
              h("h2", { class: "chart-title" }, "Items per minute of finished jobs"),
              noFinished.cloneNode(true),
            ],
      ),
    ),
  ];
}

// An axis label of a duration: "0.25 s" below a minute, then "3 min 20 s".
function seconds(value) {
  return value < 60 ? `${formatDecimal(value)} s` : formatDuration(value);
}

// The bar chart's numbers as a table, for reading exact values and for screen readers.
function numbers(stats, labels) {
  const statuses = ["completed", "partial_success", "failed", "cancelled"];
  return h(
    "details",
    { class: "numbers" },
    h("summary", {}, "Show the numbers"),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Period"),
            h("th", { scope: "col" }, "Created"),
            ...statuses.map((s) => h("th", { scope: "col" }, JOB_STATUSES[s])),
            h("th", { scope: "col" }, "Success rate"),
          ),
        ),
        h(
          "tbody",
          {},
          ...stats.buckets.map((b, i) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, labels[i]),
              h(
                "td",
                { class: "number" },
                formatCount(Object.values(b.created).reduce((x, y) => x + y, 0)),
              ),
              ...statuses.map((s) => h("td", { class: "number" }, formatCount(b.created[s]))),
              h("td", { class: "number" }, formatPercent(b.success_rate)),
            ),
          ),
        ),
      ),
    ),
  );
}
