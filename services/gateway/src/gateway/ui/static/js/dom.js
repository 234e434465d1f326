// Building elements: h("a", { href: "/jobs", class: "link" }, "Jobs").
// Attributes named on* become listeners; null, undefined and false leave an attribute out.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

// A heading the router focuses after a navigation, so screen readers announce the page.
export function pageHeading(text) {
  return h("h1", { tabindex: "-1", "data-page-heading": true }, text);
}
