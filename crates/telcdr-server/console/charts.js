// Hand-written SVG charts: bars (one series or two overlaid), a line, a
// donut, horizontal bars and the phase strip of a call. Each function returns
// an <svg> element sized by its viewBox (it scales with its container), with
// role="img", an accessible name, a <title> per mark for hover, and
// `data-value` on every mark. Colours come from style.css (classes c0..c7).

const NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children (strings become text). */
export function svgEl(name, attrs = {}, ...children) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function root(width, height, label, cls) {
  const svg = svgEl("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: `chart ${cls || ""}`.trim(),
    role: "img",
    "aria-label": label,
    preserveAspectRatio: "xMidYMid meet",
  });
  svg.append(svgEl("title", {}, label));
  return svg;
}

/** Round numbers for an axis from 0 to at least `max`: {ticks, top}. */
export function niceScale(max, count = 4) {
  if (!(max > 0)) return { ticks: [0, 1], top: 1 };
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, top };
}

const fmtNumber = (v) => (Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 2 }));

function yAxis(g, scale, { left, top, plotW, plotH, format = fmtNumber }) {
  for (const t of scale.ticks) {
    const y = top + plotH - (t / scale.top) * plotH;
    g.append(svgEl("line", { class: "grid", x1: left, x2: left + plotW, y1: y, y2: y }));
    g.append(svgEl("text", { class: "tick", x: left - 6, y: y + 4, "text-anchor": "end" }, format(t)));
  }
}

function xLabels(g, labels, { left, top, plotW, plotH, slot }) {
  const maxLabels = Math.max(2, Math.floor(plotW / 64));
  const every = Math.max(1, Math.ceil(labels.length / maxLabels));
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    const x = left + slot * i + slot / 2;
    g.append(svgEl("text", { class: "tick", x, y: top + plotH + 16, "text-anchor": "middle" }, label));
  });
}

/**
 * Vertical bars over a sequence of buckets. With two series the second is
 * drawn over the first (e.g. answered within all calls).
 *
 * @param {object} o
 * @param {string[]} o.labels           axis label per bucket
 * @param {string[]} [o.titles]         hover text per bucket
 * @param {{name: string, values: number[]}[]} o.series
 * @param {string} o.label              accessible name
 */
export function barChart({ labels, titles, series, label, width = 720, height = 240, className = "" }) {
  const svg = root(width, height, label, `bar-chart ${className}`);
  const left = 48, right = 8, top = 10, bottom = 26;
  const plotW = width - left - right, plotH = height - top - bottom;
  const n = Math.max(labels.length, 1);
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const scale = niceScale(max);
  const g = svgEl("g");
  yAxis(g, scale, { left, top, plotW, plotH });
  const slot = plotW / n;
  const barW = Math.max(1, Math.min(40, slot * 0.72));
  series.forEach((s, si) => {
    const bars = svgEl("g", { class: `series c${si}`, "data-series": s.name });
    s.values.forEach((v, i) => {
      const h = scale.top ? (v / scale.top) * plotH : 0;
      const w = si === 0 ? barW : barW * 0.6;
      const x = left + slot * i + (slot - w) / 2;
      const rect = svgEl("rect", {
        class: "bar",
        x: x.toFixed(2),
        y: (top + plotH - h).toFixed(2),
        width: w.toFixed(2),
        height: h.toFixed(2),
        "data-value": v,
      });
      rect.append(svgEl("title", {}, `${titles ? titles[i] : labels[i]}: ${fmtNumber(v)} ${s.name.toLowerCase()}`));
      bars.append(rect);
    });
    g.append(bars);
  });
  g.append(svgEl("line", { class: "axis", x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH }));
  xLabels(g, labels, { left, top, plotW, plotH, slot });
  svg.append(g);
  return svg;
}

/**
 * A line over a sequence of buckets; `null` values are gaps.
 * `format` formats the axis and hover values (e.g. percentages).
 */
export function lineChart({ labels, titles, values, label, max, format = fmtNumber, width = 720, height = 200, className = "" }) {
  const svg = root(width, height, label, `line-chart ${className}`);
  const left = 48, right = 8, top = 10, bottom = 26;
  const plotW = width - left - right, plotH = height - top - bottom;
  const n = Math.max(values.length, 1);
  const scale = max ? { top: max, ticks: [0, max / 4, max / 2, (3 * max) / 4, max] } : niceScale(Math.max(0, ...values.filter((v) => v !== null)));
  const g = svgEl("g");
  yAxis(g, scale, { left, top, plotW, plotH, format });
  const slot = plotW / n;
  const pt = (v, i) => [left + slot * i + slot / 2, top + plotH - (v / scale.top) * plotH];
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined || Number.isNaN(v)) {
      pen = false;
      return;
    }
    const [x, y] = pt(v, i);
    d += `${pen ? "L" : "M"}${x.toFixed(2)},${y.toFixed(2)}`;
    pen = true;
  });
  g.append(svgEl("path", { class: "line c0", d, fill: "none" }));
  const dots = svgEl("g", { class: "dots c0" });
  values.forEach((v, i) => {
    if (v === null || v === undefined || Number.isNaN(v)) return;
    const [x, y] = pt(v, i);
    const c = svgEl("circle", { class: "dot", cx: x.toFixed(2), cy: y.toFixed(2), r: n > 60 ? 1.5 : 3, "data-value": v });
    c.append(svgEl("title", {}, `${titles ? titles[i] : labels[i]}: ${format(v)}`));
    dots.append(c);
  });
  g.append(dots);
  g.append(svgEl("line", { class: "axis", x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH }));
  xLabels(g, labels, { left, top, plotW, plotH, slot });
  svg.append(g);
  return svg;
}

function arc(cx, cy, r, a0, a1) {
  const p = (a) => [cx + r * Math.sin(a), cy - r * Math.cos(a)];
  const [x0, y0] = p(a0);
  const [x1, y1] = p(a1);
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return { x0, y0, x1, y1, large };
}

/**
 * A donut of shares. items: [{label, value, href?, cls?}]; a slice takes the
 * colour c<cls>, or c0, c1, ... in order.
 */
export function donutChart({ items, label, center = "", centerSub = "", size = 220, className = "" }) {
  const svg = root(size, size, label, `donut-chart ${className}`);
  const cx = size / 2, cy = size / 2, r = size / 2 - 4, inner = r * 0.6;
  const total = items.reduce((a, it) => a + Math.max(0, it.value), 0);
  let a = 0;
  items.forEach((it, i) => {
    if (!(it.value > 0) || !total) return;
    const share = it.value / total;
    const title = svgEl("title", {}, `${it.label}: ${fmtNumber(it.value)} (${(share * 100).toFixed(1)}%)`);
    let shape;
    if (share >= 0.9999) {
      shape = svgEl("path", {
        class: `slice c${it.cls ?? i % 8}`,
        d: `M${cx - r},${cy}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z` +
          `M${cx - inner},${cy}a${inner},${inner} 0 1,1 ${2 * inner},0a${inner},${inner} 0 1,1 ${-2 * inner},0Z`,
        "fill-rule": "evenodd",
        "data-value": it.value,
      });
    } else {
      const a1 = a + share * 2 * Math.PI;
      const o = arc(cx, cy, r, a, a1);
      const n = arc(cx, cy, inner, a, a1);
      shape = svgEl("path", {
        class: `slice c${it.cls ?? i % 8}`,
        d: `M${o.x0.toFixed(2)},${o.y0.toFixed(2)}A${r},${r} 0 ${o.large} 1 ${o.x1.toFixed(2)},${o.y1.toFixed(2)}` +
          `L${n.x1.toFixed(2)},${n.y1.toFixed(2)}A${inner},${inner} 0 ${n.large} 0 ${n.x0.toFixed(2)},${n.y0.toFixed(2)}Z`,
        "data-value": it.value,
      });
      a = a1;
    }
    shape.append(title);
    svg.append(it.href ? svgEl("a", { href: it.href, "aria-label": `${it.label}: ${fmtNumber(it.value)}` }, shape) : shape);
  });
  if (!total) svg.append(svgEl("circle", { class: "empty-ring", cx, cy, r: (r + inner) / 2, fill: "none", "stroke-width": r - inner }));
  if (center) svg.append(svgEl("text", { class: "donut-center", x: cx, y: cy + (centerSub ? 2 : 7), "text-anchor": "middle" }, center));
  if (centerSub) svg.append(svgEl("text", { class: "donut-sub", x: cx, y: cy + 20, "text-anchor": "middle" }, centerSub));
  return svg;
}

/**
 * Horizontal bars, one per item: [{label, value, note?, href?}], largest
 * first as given. Rows with an href are links (keyboard reachable).
 */
export function hbarChart({ items, label, width = 520, rowHeight = 30, format = fmtNumber, className = "" }) {
  const height = Math.max(1, items.length) * rowHeight + 6;
  const svg = root(width, height, label, `hbar-chart ${className}`);
  const labelW = Math.min(190, width * 0.38), valueW = 96;
  const plotW = width - labelW - valueW - 8;
  const max = Math.max(1, ...items.map((it) => it.value));
  items.forEach((it, i) => {
    const y = 3 + i * rowHeight;
    const w = Math.max(it.value > 0 ? 2 : 0, (it.value / max) * plotW);
    const text = it.label.length > 26 ? `${it.label.slice(0, 25)}…` : it.label;
    const row = svgEl(
      "g",
      { class: "hbar-row" },
      svgEl("title", {}, `${it.label}: ${format(it.value)}${it.note ? ` · ${it.note}` : ""}`),
      svgEl("text", { class: "hbar-label", x: labelW - 8, y: y + rowHeight / 2 + 4, "text-anchor": "end" }, text),
      svgEl("rect", { class: "bar c0", x: labelW, y: y + 5, width: w.toFixed(2), height: rowHeight - 10, rx: 3, "data-value": it.value }),
      svgEl("text", { class: "hbar-value", x: labelW + w + 6, y: y + rowHeight / 2 + 4 }, format(it.value)),
    );
    svg.append(it.href ? svgEl("a", { href: it.href, class: "hbar-link", "aria-label": `${it.label}: ${format(it.value)}${it.note ? `, ${it.note}` : ""}` }, row) : row);
  });
  return svg;
}

/**
 * The phases of one call as a stacked strip: [{label, seconds, cls}] with cls
 * one of ivr, queue, ring, talk, wait.
 */
export function phaseBar({ segments, label, width = 720, height = 58, format = (s) => `${s} s` }) {
  const svg = root(width, height, label, "phase-bar");
  const total = segments.reduce((a, s) => a + Math.max(0, s.seconds), 0);
  if (!total) {
    svg.append(svgEl("text", { class: "tick", x: 4, y: 24 }, "No timing information."));
    return svg;
  }
  let x = 0;
  for (const s of segments) {
    if (!(s.seconds > 0)) continue;
    const w = (s.seconds / total) * width;
    const g = svgEl(
      "g",
      { class: `phase phase-${s.cls}` },
      svgEl("title", {}, `${s.label}: ${format(s.seconds)}`),
      svgEl("rect", { x: x.toFixed(2), y: 4, width: Math.max(1, w - 1).toFixed(2), height: 26, rx: 3, "data-value": s.seconds }),
    );
    if (w > 56) {
      g.append(svgEl("text", { class: "phase-label", x: (x + 6).toFixed(2), y: 21 }, s.label));
      g.append(svgEl("text", { class: "phase-time", x: (x + 6).toFixed(2), y: 48 }, format(s.seconds)));
    }
    svg.append(g);
    x += w;
  }
  return svg;
}
