// History API routing: links to app pages change the page without a reload, and
// back/forward work. A page is `mount(outlet, params, url)` returning
// `{ destroy(), update?(url) }`; `update` takes a new query string of the same page
// (a filter, a page of results) without rebuilding it.

let routes = [];
let outlet;
let current = null; // { route, params, page }

export function startRouter(table, element) {
  routes = table;
  outlet = element;
  document.addEventListener("click", followLink);
  addEventListener("popstate", () => render(false));
  render(false);
}

// Go to `path` (with its query) inside the app; `state` rides along in history.state.
export function navigate(path, { replace = false, state = null } = {}) {
  history[replace ? "replaceState" : "pushState"](state, "", path);
  render(true);
}

// Change only the query of the current page, e.g. `setQuery({ status: "failed" })`.
export function setQuery(params, { state = null } = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [value].flat()) if (one) query.append(name, one);
  }
  const search = query.toString();
  navigate(location.pathname + (search ? `?${search}` : ""), { state });
}

function followLink(event) {
  const link = event.target.closest("a[href]");
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey ||
    link.target ||
    link.hasAttribute("download")
  ) {
    return;
  }
  const url = new URL(link.href);
  if (url.origin !== location.origin || !match(url.pathname)) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

function match(pathname) {
  for (const route of routes) {
    const found = route.pattern.exec(pathname);
    if (found) return { route, params: found.groups ?? {} };
  }
  return null;
}

function render(moveFocus) {
  const url = new URL(location.href);
  const found = match(url.pathname) ?? match("/jobs");
  const samePage =
    current &&
    current.route === found.route &&
    JSON.stringify(current.params) === JSON.stringify(found.params);
  if (samePage && current.page.update) {
    current.page.update(url);
    return;
  }
  current?.page.destroy();
  outlet.replaceChildren();
  document.title = `${found.route.title} · MerchantOps Jobs`;
  current = { ...found, page: found.route.mount(outlet, found.params, url) };
  for (const link of document.querySelectorAll("[data-section]")) {
    if (link.dataset.section === found.route.section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (moveFocus) {
    scrollTo(0, 0);
    (outlet.querySelector("[data-page-heading]") ?? outlet).focus();
  }
}
