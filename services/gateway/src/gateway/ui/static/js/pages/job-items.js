// The Items section of the job page: the job's items by id, filtered by item status and
// paged by cursor; `refresh()` re-reads the page shown (the job page calls it as the
// job moves).

import { api } from "../api.js";
import { pager, statusBadge } from "../components.js";
import { h } from "../dom.js";
import { ITEM_STATUSES, formatDateTime } from "../format.js";

const PAGE_SIZE = 20;

export function itemsSection(jobId) {
  const filter = h(
    "select",
    { id: "items-status" },
    h("option", { value: "" }, "All items"),
    ...Object.entries(ITEM_STATUSES).map(([value, text]) => h("option", { value }, text)),
  );
  const body = h("tbody");
  const empty = h("p", { class: "muted", hidden: true });
  const pages = pager("Pages of items", move);
  const element = h(
    "section",
    { class: "card section-items", "aria-labelledby": "section-items" },
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "section-items" }, "Items"),
      h(
        "div",
        { class: "field field--inline" },
        h("label", { for: "items-status" }, "Show"),
        filter,
      ),
    ),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "items-table" },
        h("caption", { class: "visually-hidden" }, "Items of this job"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Item", "Status", "Attempts", "Finished", "Details"].map((name) =>
              h("th", { scope: "col" }, name),
            ),
          ),
        ),
        body,
      ),
    ),
    empty,
    pages.element,
  );

  let cursor = null;
  let trail = [];
  let nextCursor = null;
  let ticket = 0;

  async function refresh() {
    const mine = ++ticket;
    try {
      const page = await api(`/jobs/${jobId}/items`, {
        query: { status: filter.value, limit: PAGE_SIZE, cursor },
      });
      if (mine !== ticket) return;
      body.replaceChildren(...page.items.map(itemRow));
      nextCursor = page.next_cursor;
      empty.textContent = "No items to show.";
      empty.hidden = page.items.length > 0;
      pages.set(trail.length > 0, nextCursor != null);
    } catch (error) {
      if (mine === ticket) {
        empty.textContent = error.message;
        empty.hidden = false;
      }
    }
  }

  function move(step) {
    if (step > 0) {
      trail.push(cursor);
      cursor = nextCursor;
    } else {
      cursor = trail.pop() ?? null;
    }
    refresh();
  }

  filter.addEventListener("change", () => {
    cursor = null;
    trail = [];
    refresh();
  });

  return { element, refresh };
}

function itemRow(item) {
  return h(
    "tr",
    {},
    h(
      "th",
      { scope: "row" },
      item.label || item.item_id,
      item.label ? h("span", { class: "job-id" }, item.item_id) : null,
    ),
    h("td", {}, statusBadge(item.status, ITEM_STATUSES)),
    h("td", { class: "number" }, String(item.attempts)),
    h("td", {}, formatDateTime(item.finished_at, { seconds: true })),
    h("td", { class: "details" }, details(item)),
  );
}

function details(item) {
  if (item.error) return h("span", { class: "item-error" }, item.error.message);
  if (!item.result) return "";
  return Object.entries(item.result)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}
