// The catalog that ingestion and crawls fill: search, page through, and enrich one
// product or a batch of selected ones (each starts an enrichment job).

import { ApiError, api } from "../api.js";
import { messageArea, pager } from "../components.js";
import { h, pageHeading } from "../dom.js";
import { formatCount, formatDateTime, shortId } from "../format.js";
import { setQuery } from "../router.js";

const PAGE_SIZE = 50;

export function productsPage(outlet, _params, url) {
  const message = messageArea();
  const search = h("input", {
    id: "product-search",
    type: "search",
    name: "q",
    placeholder: "Title or SKU",
  });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search products" },
    h("div", { class: "field" }, h("label", { for: "product-search" }, "Search"), search),
    h(
      "div",
      { class: "filters-actions" },
      h("button", { type: "submit", class: "button" }, "Search"),
    ),
  );
  const selected = new Set();
  const enrichSelected = h(
    "button",
    {
      type: "button",
      class: "button button--primary",
      disabled: true,
      onclick: () => enrich([...selected]),
    },
    "Enrich selected",
  );
  const summary = h("p", { class: "muted" });
  const body = h("tbody");
  const empty = h("p", { class: "empty", hidden: true });
  const pages = pager("Pages of products", move);
  outlet.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        pageHeading("Products"),
        h(
          "p",
          { class: "lead" },
          "The catalog your documents and crawls fill, and enrichment improves.",
        ),
      ),
      enrichSelected,
    ),
    form,
    message.element,
    summary,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "products-table" },
        h("caption", { class: "visually-hidden" }, "Products, newest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[
              "Select",
              "Product",
              "SKU",
              "Brand",
              "Price",
              "Category",
              "Source",
              "Updated",
              "Actions",
            ].map((name) => h("th", { scope: "col" }, name)),
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

  async function load(target) {
    const q = target.searchParams.get("q") ?? "";
    search.value = q;
    cursor = target.searchParams.get("cursor");
    trail = history.state?.trail ?? (cursor ? [null] : []);
    const mine = ++ticket;
    try {
      const page = await api("/products", { query: { q, limit: PAGE_SIZE, cursor } });
      if (mine !== ticket) return;
      body.replaceChildren(...page.products.map(productRow));
      summary.textContent = `${formatCount(page.total)} ${page.total === 1 ? "product" : "products"}`;
      empty.textContent = q
        ? "No products match this search."
        : "No products yet: upload a document on the Start a job page.";
      empty.hidden = page.products.length > 0;
      nextCursor = page.next_cursor;
      pages.set(cursor != null, nextCursor != null);
    } catch (error) {
      if (mine === ticket) message.show(error.message, "error");
    }
  }

  function productRow(product) {
    const label = product.title || product.sku || product.id;
    const box = h("input", {
      type: "checkbox",
      "aria-label": `Select ${label}`,
      checked: selected.has(product.id),
    });
    box.addEventListener("change", () => {
      if (box.checked) selected.add(product.id);
      else selected.delete(product.id);
      enrichSelected.disabled = selected.size === 0;
      enrichSelected.textContent = selected.size
        ? `Enrich selected (${selected.size})`
        : "Enrich selected";
    });
    return h(
      "tr",
      {},
      h("td", {}, box),
      h("th", { scope: "row" }, label),
      h("td", {}, product.sku ?? "—"),
      h("td", {}, product.brand ?? "—"),
      h(
        "td",
        { class: "number" },
        product.price ? `${product.price} ${product.currency ?? ""}`.trim() : "—",
      ),
      h("td", {}, product.category ?? "—"),
      h(
        "td",
        {},
        h("a", { href: `/jobs/${product.source.job_id}` }, `Job ${shortId(product.source.job_id)}`),
      ),
      h("td", {}, formatDateTime(product.updated_at)),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "button button--small",
            "aria-label": `Enrich ${label}`,
            onclick: () => enrich([product.id]),
          },
          "Enrich",
        ),
      ),
    );
  }

  async function enrich(productIds) {
    try {
      const job = await api("/jobs", {
        method: "POST",
        json: { type: "enrichment", params: { product_ids: productIds } },
      });
      message.show(
        h(
          "span",
          {},
          "Enrichment started: ",
          h("a", { href: `/jobs/${job.id}` }, `Enrichment job ${shortId(job.id)}`),
          ".",
        ),
      );
    } catch (error) {
      message.show(error instanceof ApiError ? error.message : String(error), "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setQuery({ q: search.value.trim() });
  });

  function move(step) {
    const q = search.value.trim();
    if (step > 0) setQuery({ q, cursor: nextCursor }, { state: { trail: [...trail, cursor] } });
    else setQuery({ q, cursor: trail.at(-1) }, { state: { trail: trail.slice(0, -1) } });
  }

  load(url);
  return {
    update: load,
    destroy() {
      ticket++;
    },
  };
}
