// Charts as inline SVG, drawn here: stacked bars and lines over a row of buckets.
// Each series' colour comes from its CSS class (`series-<name>`); every bar and point
// has a tooltip (<title>), and each chart has a legend and a text alternative.

import { h } from "./dom.js";

const WIDTH = 480;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 52 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const MAX_X_LABELS = 6;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value != null) element.setAttribute(name, value);
  }
  element.append(...children.filter((child) => child != null));
  return element;
}

function tooltip(text) {
  return svg("title", {}, text);
}

// `labels`: one per bucket. `series`: [{ name, label, values }], stacked in order.
export function stackedBars({ title, labels, series, format }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const { scale, grid } = yAxis(Math.max(...totals, 0), format, { minStep: 1 });
  const slot = PLOT_W / Math.max(labels.length, 1);
  const barWidth = Math.max(1, Math.min(slot * 0.7, 40));
  const bars = labels.flatMap((label, i) => {
    let base = 0;
    const x = MARGIN.left + slot * i + (slot - barWidth) / 2;
    return series
      .filter((s) => s.values[i])
      .map((s) => {
        const value = s.values[i];
        const rect = svg(
          "rect",
          {
            x,
            y: scale(base + value),
            width: barWidth,
            height: scale(base) - scale(base + value),
            class: `bar series-${s.name}`,
          },
          tooltip(`${label}: ${format(value)} ${s.label.toLowerCase()}`),
        );
        base += value;
        return rect;
      });
  });
  return figure(title, series, grid, xAxis(labels, slot), bars);
}

// `series`: [{ name, label, values (null where unknown), dashed }]; gaps where null.
export function lineChart({ title, labels, series, format, max }) {
  const highest = max ?? Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v != null)));
  const { scale, grid } = yAxis(highest, format, { exact: max != null });
  const slot = PLOT_W / Math.max(labels.length, 1);
  const xOf = (i) => MARGIN.left + slot * i + slot / 2;
  const drawn = series.flatMap((s) => {
    const segments = [];
    let current = [];
    s.values.forEach((value, i) => {
      if (value == null) {
        if (current.length) segments.push(current);
        current = [];
      } else {
        current.push([xOf(i), scale(value)]);
      }
    });
    if (current.length) segments.push(current);
    const lines = segments
      .filter((points) => points.length > 1)
      .map((points) =>
        svg("polyline", {
          points: points.map((p) => p.join(",")).join(" "),
          class: `line series-${s.name}${s.dashed ? " line--dashed" : ""}`,
        }),
      );
    const dots = s.values.flatMap((value, i) =>
      value == null
        ? []
        : [
            svg(
              "circle",
              {
                cx: xOf(i),
                cy: scale(value),
                r: 3.5,
                class: `dot series-${s.name}${s.dashed ? " dot--open" : ""}`,
              },
              tooltip(`${labels[i]}: ${s.label} ${format(value)}`),
            ),
          ],
    );
    return [...lines, ...dots];
  });
  return figure(title, series, grid, xAxis(labels, slot), drawn);
}

function figure(title, series, ...layers) {
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": title },
    ...layers.flat(),
  );
  const legend = h(
    "ul",
    { class: "legend" },
    ...series.map((s) =>
      h(
        "li",
        {},
        h("span", {
          class: `swatch series-${s.name}${s.dashed ? " swatch--open" : ""}`,
          "aria-hidden": "true",
        }),
        s.label,
      ),
    ),
  );
  return h(
    "figure",
    { class: "chart-figure" },
    h("figcaption", {}, h("h2", { class: "chart-title" }, title)),
    chart,
    legend,
  );
}

// Gridlines and labels for 0..max at round steps (`exact`: max is the top, not rounded
// up); `scale(value)` is the y of a value.
function yAxis(max, format, { exact = false, minStep = 0 } = {}) {
  const step = Math.max(minStep, niceStep((max || 1) / 4));
  const top = exact ? max : Math.max(step, Math.ceil((max || 1) / step) * step);
  const scale = (value) => MARGIN.top + PLOT_H - (value / top) * PLOT_H;
  const grid = [];
  for (let value = 0; value <= top + step / 1000; value += step) {
    const y = scale(value);
    grid.push(
      svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: "gridline" }),
      svg(
        "text",
        { x: MARGIN.left - 6, y: y + 4, class: "axis-label", "text-anchor": "end" },
        format(value),
      ),
    );
  }
  return { scale, grid };
}

function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = [1, 2, 2.5, 5, 10].find((candidate) => fraction <= candidate);
  return nice * power;
}

// A label under every few buckets; one near the right edge ends there instead of
// overflowing it.
function xAxis(labels, slot) {
  const every = Math.ceil(labels.length / MAX_X_LABELS);
  return labels.flatMap((label, i) => {
    if (i % every) return [];
    const x = MARGIN.left + slot * i + slot / 2;
    const nearEdge = x > WIDTH - 36;
    return [
      svg(
        "text",
        {
          x: nearEdge ? WIDTH : x,
          y: HEIGHT - 8,
          class: "axis-label",
          "text-anchor": nearEdge ? "end" : "middle",
        },
        label,
      ),
    ];
  });
}
