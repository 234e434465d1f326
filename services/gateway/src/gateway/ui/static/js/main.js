// The app: its pages, the sidebar (a menu on narrow screens) and the live indicator.

import { onLiveStatus, startLive } from "./live.js";
import { jobPage } from "./pages/job.js";
import { jobsPage } from "./pages/jobs.js";
import { historyPage } from "./pages/history.js";
import { productsPage } from "./pages/products.js";
import { startPage } from "./pages/start.js";
import { startRouter } from "./router.js";

const ROUTES = [
  { pattern: /^\/jobs\/?$/, title: "Jobs", section: "jobs", mount: jobsPage },
  { pattern: /^\/jobs\/(?<id>[^/]+)$/, title: "Job", section: "jobs", mount: jobPage },
  { pattern: /^\/start$/, title: "Start a job", section: "start", mount: startPage },
  { pattern: /^\/products$/, title: "Products", section: "products", mount: productsPage },
  { pattern: /^\/history$/, title: "History", section: "history", mount: historyPage },
];

const LIVE_WORDS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };

function setUpMenu() {
  const button = document.querySelector(".menu-button");
  const nav = document.getElementById("nav");
  const close = () => {
    button.setAttribute("aria-expanded", "false");
    nav.classList.remove("nav--open");
  };
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("nav--open", open);
  });
  nav.addEventListener("click", (event) => {
    if (event.target.closest("a")) close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("nav--open")) {
      close();
      button.focus();
    }
  });
}

setUpMenu();
const indicator = document.getElementById("live");
onLiveStatus((state) => {
  indicator.dataset.state = state;
  indicator.textContent = LIVE_WORDS[state];
});
startLive();
startRouter(ROUTES, document.getElementById("main"));
