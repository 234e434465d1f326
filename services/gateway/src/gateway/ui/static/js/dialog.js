// A confirmation as a modal <dialog>: the page behind is inert, focus stays inside,
// Escape or the dismiss button answers no. Resolves true only for the confirm button.

import { h } from "./dom.js";

export function confirmDialog({ title, message, confirmLabel, dismissLabel, danger = false }) {
  const opener = document.activeElement;
  const dismiss = h("button", { type: "submit", class: "button", value: "no" }, dismissLabel);
  const confirm = h(
    "button",
    {
      type: "submit",
      class: `button ${danger ? "button--danger" : "button--primary"}`,
      value: "yes",
    },
    confirmLabel,
  );
  const dialog = h(
    "dialog",
    { class: "dialog", "aria-labelledby": "dialog-title", "aria-describedby": "dialog-message" },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "dialog-title" }, title),
      h("p", { id: "dialog-message" }, message),
      h("div", { class: "dialog-actions" }, dismiss, confirm),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  dismiss.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "yes");
    });
  });
}
