// Words and numbers as the user reads them: labels of types and statuses, and times,
// durations and numbers in the browser's locale.

export const JOB_TYPES = {
  document_ingestion: "Document ingestion",
  enrichment: "Enrichment",
  crawl: "Crawl",
  export: "Export",
};

export const JOB_STATUSES = {
  pending: "Pending",
  in_progress: "In progress",
  completed: "Completed",
  partial_success: "Partial success",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const ITEM_STATUSES = {
  pending: "Pending",
  in_progress: "In progress",
  succeeded: "Succeeded",
  failed: "Failed",
  skipped: "Skipped",
};

export const ERROR_CATEGORIES = {
  url_unreachable: "URL not accessible",
  parse_error: "Document parsing error",
  rate_limited: "Rate limit error",
  timeout: "Timeout error",
  validation_error: "Invalid data",
  internal_error: "Internal error",
};

export const TERMINAL = new Set(["completed", "partial_success", "failed", "cancelled"]);
export const ACTIVE = new Set(["pending", "in_progress"]);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});
const time = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const integer = new Intl.NumberFormat();
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatDateTime(iso, { seconds = false } = {}) {
  if (!iso) return "—";
  return (seconds ? dateTimeSeconds : dateTime).format(new Date(iso));
}

export function formatTime(date) {
  return time.format(date);
}

export function formatCount(n) {
  return integer.format(n);
}

export function formatDecimal(n) {
  return decimal.format(n);
}

export function formatPercent(value) {
  return value == null ? "—" : `${decimal.format(value)}%`;
}

// 42 s, 3 min 20 s, 2 h 5 min, 3 d 4 h.
export function formatDuration(seconds) {
  if (seconds == null) return "—";
  if (seconds < 1) return "< 1 s";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const [d, h, m] = [
    Math.floor(s / 86400),
    Math.floor((s % 86400) / 3600),
    Math.floor((s % 3600) / 60),
  ];
  if (s < 3600) return `${m} min ${s % 60} s`;
  if (s < 86400) return `${h} h ${m} min`;
  return `${d} d ${h} h`;
}

export function shortId(id) {
  return id.length > 8 ? id.slice(0, 8) : id;
}

// `yyyy-mm-dd` (a date input's value) as the instant its day starts where the user is.
export function localDayStart(day, plusDays = 0) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

// A date input's value (`yyyy-mm-dd`) for `date` where the user is.
export function dayValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
