/*
 * hpsweep report: builds the page from the JSON document in #hps-data (written by
 * engine/report/*.c) with Chart.js 3.9.1, embedded above this script. Every plot
 * is a Chart.js chart except that the parallel-coordinates plot, which Chart.js
 * lacks, is a line chart over one category axis per parameter, each value scaled
 * to [0, 1] between its parameter's bounds (log bounds for log parameters, choice
 * positions for categoricals), with a small plugin drawing each axis and its range.
 *
 * When done it sets body[data-ready] and window.hpsReport = {charts, errors,
 * renderMs}; the tests read these.
 */
"use strict";
(function () {
  const t0 = performance.now();
  const state = { charts: [], errors: [], renderMs: null };
  window.hpsReport = state;
  const D = JSON.parse(document.getElementById("hps-data").textContent);
  const P = D.params, S = D.scatter, metric = D.sweep.metric || "objective";
  const COLOR = { done: "#0072b2", pruned: "#e69f00", failed: "#d55e00", interrupted: "#8c8c8c",
                  running: "#56b4e9", best: "#111111", top: "#d55e00" };
  const BUDGET = ["#9bd770", "#35b779", "#21918c", "#31688e", "#443983", "#440154"];
  const MF = D.multi_fidelity;

  /* ---- helpers ------------------------------------------------------------------ */
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function fmt(v, p) {
    p = p || 4;
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "–";
    if (typeof v !== "number") return String(v);
    const a = Math.abs(v);
    if (v === 0) return "0";
    if (Number.isInteger(v) && a < 1e9) return String(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(p - 1).replace(/\.?0+e/, "e");
    return String(parseFloat(v.toPrecision(p)));
  }
  const count = (n) => Number(n).toLocaleString("en-US");
  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }
  function section(id, title, intro) {
    const s = el("section", { id }, el("h2", { text: title }));
    if (intro) s.append(el("p", { class: "note", text: intro }));
    document.getElementById("report").append(s);
    return s;
  }
  /* A titled card holding a chart; minWidth (px): the chart scrolls sideways in a
     narrower card rather than crowd its labels. */
  function card(parent, title, tall, minWidth) {
    const canvas = el("canvas", { role: "img", "aria-label": title });
    const box = el("div", { class: "chart" + (tall ? " tall" : "") }, canvas);
    if (minWidth) box.style.minWidth = `${minWidth}px`;
    const c = el("div", { class: "card" }, el("h3", { text: title }), minWidth ? el("div", { class: "scroll" }, box) : box);
    parent.append(c);
    return { card: c, canvas };
  }
  function chart(canvas, config, name) {
    try {
      const ch = new Chart(canvas.getContext("2d"), config);
      const points = ch.data.datasets.reduce((s, d) => s + d.data.length, 0);
      const legend = ch.legend && ch.legend.legendItems ? ch.legend.legendItems.map((i) => i.text) : [];
      state.charts.push({ name, type: config.type, points, legend });
      return ch;
    } catch (e) {
      state.errors.push(name + ": " + e);
      console.error("hpsweep report: " + name + ": " + e);
      return null;
    }
  }
  /* A linear or log axis with a title and compact, non-overlapping ticks. */
  function axis(title, log, extra) {
    return Object.assign({
      type: log ? "logarithmic" : "linear",
      title: { display: true, text: title },
      ticks: {
        maxRotation: 0, autoSkipPadding: 14,
        callback(v) {
          if (!log) return fmt(v, 3);
          const e = Math.log10(v);
          return Math.abs(e - Math.round(e)) < 1e-9 ? fmt(v, 3) : "";
        },
      },
      grid: { color: "#e8ebee" },
    }, extra || {});
  }
  /* Log scale for positive values spanning more than three decades. */
  function wantLog(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) {
      if (v === null) continue;
      if (v <= 0) return false;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return isFinite(lo) && hi / lo > 100;
  }
  /* For a linear axis whose values have a long tail on the bad side (diverged runs):
     a y range that leaves the tail out, with how many values it hides; else null. */
  function clipRange(values) {
    const v = values.filter((x) => x !== null && isFinite(x)).sort((a, b) => a - b);
    if (v.length < 20) return null;
    const q = (f) => v[Math.floor(f * (v.length - 1))];
    const q05 = q(0.05), q95 = q(0.95), spread = q95 - q05;
    if (!(spread > 0)) return null;
    if (D.maximize) {
      if (q05 - v[0] <= 3 * spread) return null;
      const min = q05 - 0.25 * spread;
      return { min, hidden: v.filter((x) => x < min).length, text: `below ${fmt(min, 3)}` };
    }
    if (v[v.length - 1] - q95 <= 3 * spread) return null;
    const max = q95 + 0.25 * spread;
    return { max, hidden: v.filter((x) => x > max).length, text: `above ${fmt(max, 3)}` };
  }
  /* Apply clip to chart ch's y axis, say so under it, and offer the whole range. */
  function clipNote(box, ch, clip) {
    if (!clip || !ch) return;
    const y = ch.options.scales.y;
    y.min = clip.min;
    y.max = clip.max;
    ch.update();
    const btn = el("button", { type: "button", text: "show all values" });
    const p = el("p", { class: "note clip" }, `The y axis leaves out the long tail: ${count(clip.hidden)} ` +
                 `value${clip.hidden === 1 ? "" : "s"} ${clip.text} are off the plot. `, btn);
    btn.addEventListener("click", () => {
      const all = y.min === clip.min && y.max === clip.max;
      y.min = all ? undefined : clip.min;
      y.max = all ? undefined : clip.max;
      btn.textContent = all ? "leave out the tail" : "show all values";
      ch.update();
    });
    box.append(p);
  }
  function timeUnit(maxSeconds) {
    if (maxSeconds < 600) return { div: 1, name: "s" };
    if (maxSeconds < 36000) return { div: 60, name: "min" };
    return { div: 3600, name: "h" };
  }
  function tooltipTrial(ctx) {
    const r = ctx.raw || {};
    return (r.id !== undefined ? `trial ${r.id}: ` : "") + `${metric} = ${fmt(r.y, 6)}`;
  }
  const baseOptions = () => ({
    animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
    interaction: { mode: "nearest", intersect: true },
    plugins: { legend: { position: "top", labels: { boxWidth: 12, boxHeight: 12, padding: 8 } },
               tooltip: { callbacks: { label: tooltipTrial } } },
  });

  /* ---- shared trial groups ---------------------------------------------------------- */
  const budgets = MF && S && S.budget ? [...new Set(S.budget.filter((b) => b !== null))].sort((a, b) => a - b) : [];
  function budgetColor(b) {
    const i = budgets.indexOf(b);
    if (budgets.length <= 1 || i < 0) return BUDGET[BUDGET.length - 2];
    return BUDGET[Math.round((i * (BUDGET.length - 1)) / (budgets.length - 1))];
  }
  const topIds = new Set(D.top.rows.map((r) => r.trial_id));
  const logY = S ? wantLog(S.y) : false;
  const yTitle = metric + (logY ? " (log scale)" : "");
  /* Datasets of the sampled trials at x = xOf(j): one per budget in a multi-fidelity
     sweep, else one; then the top-k trials drawn over them. */
  function trialDatasets(xOf) {
    const groups = new Map(), top = [];
    for (let j = 0; j < S.id.length; j++) {
      const x = xOf(j), y = S.y[j];
      if (x === null || y === null) continue;
      const pt = { x, y, id: S.id[j] };
      if (topIds.has(S.id[j])) top.push(pt);
      const key = MF ? S.budget[j] : "all";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(pt);
    }
    /* Chart.js reads unparsed data (parsing: false) as sorted by x. */
    const byX = (pts) => pts.sort((a, b) => a.x - b.x);
    const sets = [...groups.keys()].sort((a, b) => a - b).map((k) => ({
      label: MF ? `budget ${fmt(k)}` : "completed trials",
      data: byX(groups.get(k)), pointRadius: 2.2, pointHoverRadius: 4, borderWidth: 0,
      backgroundColor: alpha(MF ? budgetColor(k) : COLOR.done, 0.55),
      borderColor: MF ? budgetColor(k) : COLOR.done,
    }));
    sets.push({ label: `top ${D.top.rows.length}`, data: byX(top), pointRadius: 4, pointHoverRadius: 6,
                backgroundColor: COLOR.top, borderColor: "#ffffff", borderWidth: 1 });
    return sets.reverse(); /* legend and drawing: top first, so it stays on top */
  }
  function sampleNote() {
    if (!S || S.n_shown >= S.n_total) return null;
    if (S.keep_best >= S.n_shown) return `Showing the best ${count(S.n_shown)} of ${count(S.n_total)} completed trials.`;
    return `Showing ${count(S.n_shown)} of ${count(S.n_total)} completed trials: the best ` +
           `${count(S.keep_best)} and an even sample of the rest, in trial order.`;
  }

  /* ---- header and summary ------------------------------------------------------------ */
  function summary() {
    const c = D.counts, sw = D.sweep, best = D.top.rows[0];
    document.getElementById("subtitle").textContent =
      `${sw.strategy} search · objective ${sw.objective} · ${sw.goal} ${metric} · ` +
      `${count(c.total)} trials · status ${sw.status}`;
    const s = section("summary", "Summary");
    const stats = el("div", { class: "stats" });
    const stat = (label, value, sub) => stats.append(el("div", { class: "card stat" },
      el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
      sub ? el("div", { class: "sub", text: sub }) : null));
    stat(`best ${metric} (${sw.goal})`, best ? fmt(best.value, 6) : "–",
         best ? `trial ${best.trial_id}` + (MF ? ` at budget ${fmt(best.budget)}` : "") : "no trial completed yet");
    stat("trials", count(c.total), `${count(c.done)} done · ${count(c.failed)} failed · ` +
         `${count(c.pruned)} pruned · ${count(c.interrupted)} interrupted · ${count(c.running)} running`);
    const tmax = S && S.t.length ? Math.max(...S.t.filter((v) => v !== null)) : null;
    const tu = timeUnit(tmax || 0);
    stat("wall-clock time", tmax !== null ? `${fmt(tmax / tu.div, 3)} ${tu.name}` : "–",
         `from the first trial's start to the last one's end`);
    stat("strategy", sw.strategy, `seed ${sw.seed}`);
    s.append(stats);
    if (!best) return;
    const rows = P.map((p, i) => el("tr", {}, el("td", { class: "kv-key", text: p.name }),
      el("td", { class: "kv-value", text: typeof best.params[i] === "string" ? best.params[i] : JSON.stringify(best.params[i]) })));
    /* as hpsweep best: a multi-fidelity trial's budget after its seed */
    const lines = [`{`, `  "trial_id": ${best.trial_id},`, `  "seed": ${best.seed},`,
      ...(best.budget > 0 ? [`  "budget": ${JSON.stringify(best.budget)},`] : []),
      `  ${JSON.stringify(metric)}: ${JSON.stringify(best.value)},`, `  "params": {` +
      P.map((p, i) => `\n    ${JSON.stringify(p.name)}: ${JSON.stringify(best.params[i])}`).join(",") +
      (P.length ? "\n  }" : "}"), `}`];
    s.append(el("div", { class: "grid" },
      el("div", { class: "card" }, el("h3", { text: `Best configuration (trial ${best.trial_id})` }),
         el("div", { class: "scroll" }, el("table", {}, el("tbody", {}, ...rows)))),
      el("div", { class: "card" }, el("h3", { text: "As hpsweep best --format json prints it" }),
         el("pre", { id: "best-json", text: lines.join("\n") }))));
  }

  /* ---- optimisation history ----------------------------------------------------------- */
  function history() {
    const s = section("history", "Optimisation history",
      "Every completed trial's value, and the best so far" +
      (MF ? " (ranked as hpsweep best ranks them: a result at a larger budget beats any at a smaller one; each trial is plotted at the last budget it reached)" : "") +
      ", against the trial number and against the wall-clock time at which each trial ended.");
    const note = sampleNote();
    if (note) s.append(el("p", { class: "note sampled", text: note + " The best-so-far line uses every trial." }));
    if (!S || !S.id.length) { s.append(el("p", { text: "No trial has completed yet." })); return; }
    const grid = el("div", { class: "grid wide" });
    s.append(grid);
    const bestLine = (steps, div) => ({
      label: "best so far", type: "line", data: steps.map((p) => ({ x: p[0] / div, y: p[1], id: p[2] })),
      stepped: "after", borderColor: COLOR.best, backgroundColor: COLOR.best, borderWidth: 2,
      pointRadius: 0, pointHoverRadius: 3, showLine: true, fill: false,
    });
    let o = baseOptions();
    o.scales = { x: axis("trial number"), y: axis(yTitle, logY) };
    const clip = logY ? null : clipRange(S.y);
    let c = card(grid, `${metric} by trial number`);
    clipNote(c.card, chart(c.canvas, { type: "scatter", data: { datasets: [bestLine(D.history.by_trial, 1), ...trialDatasets((j) => S.id[j])] }, options: o }, "history-trial"), clip);
    const tmax = Math.max(...S.t.filter((v) => v !== null));
    const tu = timeUnit(tmax);
    o = baseOptions();
    o.scales = { x: axis(`wall-clock time since the first trial started (${tu.name})`), y: axis(yTitle, logY) };
    c = card(grid, `${metric} by trial end time`);
    clipNote(c.card, chart(c.canvas, { type: "scatter", data: { datasets: [bestLine(D.history.by_time, tu.div), ...trialDatasets((j) => (S.t[j] === null ? null : S.t[j] / tu.div))] }, options: o }, "history-time"), clip);
  }

  /* ---- importance --------------------------------------------------------------------- */
  function importanceOrder() {
    const items = (D.importance.items || []).slice().sort((a, b) => b.eta2 - a.eta2);
    return items.length ? items.map((it) => it.param) : P.map((_, i) => i);
  }
  function importance() {
    const im = D.importance;
    const s = section("importance", "Parameter importance");
    const left = D.counts.pruned + D.counts.failed;
    const basis = (im.top_budget_only ? `the ${count(im.n)} completed trials at the largest budget (${fmt(im.budget)})`
                                      : `all ${count(im.n)} completed trials`) +
                  (left ? ` (the ${count(left)} pruned or failed trials have no final value and are not counted)` : "");
    s.append(el("p", { class: "note", text:
      "Method: for each parameter alone, the share of the variance of the metric's ranks that the " +
      "parameter's value explains (the correlation ratio η², the between-group variance over the total, " +
      "with the parameter cut into up to 10 quantile bins of at least 5 trials each, or grouped by value for categoricals, bools " +
      "and ints with few values), adjusted for the number of groups like adjusted R², so that a " +
      "parameter without effect scores about 0. This is the main-effect (first-order) term of a " +
      "functional ANOVA estimated by binning: interactions between parameters are not counted, and " +
      "for adaptive strategies (gp, tpe, bohb) the trials crowd where the search went, which this " +
      `measure does not correct for. Computed on ${basis}. ρ is Spearman's rank correlation of a ` +
      `numeric parameter with ${metric} (positive: larger values give larger ${metric}).` }));
    const items = (im.items || []).slice().sort((a, b) => b.eta2 - a.eta2);
    if (!items.length) {
      s.append(el("p", { text: `Too few completed trials (${count(im.n)}) to estimate importance: at least 10 are needed.` }));
      return;
    }
    const c = el("div", { class: "card" }, el("h3", { text: "Main-effect importance (adjusted η² on ranks)" }));
    const box = el("div", { class: "chart" });
    box.style.height = `${Math.max(160, 70 + 30 * items.length)}px`;
    const canvas = el("canvas", { role: "img", "aria-label": "parameter importance" });
    box.append(canvas);
    c.append(box);
    s.append(c);
    const o = baseOptions();
    o.parsing = true;
    o.indexAxis = "y";
    o.interaction = { mode: "nearest", intersect: false, axis: "y" };
    o.plugins.legend.display = false;
    o.plugins.tooltip.callbacks = { label(ctx) {
      const it = items[ctx.dataIndex];
      return [`η² = ${fmt(it.eta2, 3)} (${it.groups} groups)`, it.spearman === null ? "ρ: –" : `ρ = ${fmt(it.spearman, 3)}`];
    } };
    o.scales = { x: axis("adjusted η² (0: no effect)", false, { min: 0 }),
                 y: { ticks: { autoSkip: false }, grid: { display: false } } };
    chart(canvas, { type: "bar", data: { labels: items.map((it) => P[it.param].name),
      datasets: [{ label: "adjusted η²", data: items.map((it) => it.eta2), backgroundColor: COLOR.done, barPercentage: 0.7 }] },
      options: o }, "importance");
  }

  /* ---- each parameter against the metric ---------------------------------------------- */
  const MAX_PARAM_PLOTS = 24;
  function jitter(id) { return ((Math.imul(id + 1, 2654435761) >>> 0) % 1000) / 1000 - 0.5; }
  function choiceLabels(p) { return p.type === "bool" ? ["false", "true"] : p.choices; }
  function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function params() {
    const s = section("params", `Parameters against ${metric}`,
      "One plot per parameter, most important first. Log-scale parameters on a log axis; categorical and bool " +
      "parameters as groups (points spread sideways to be seen) with each group's median as a black bar.");
    const note = sampleNote();
    if (note) s.append(el("p", { class: "note sampled", text: note }));
    if (!S || !S.id.length) { s.append(el("p", { text: "No trial has completed yet." })); return; }
    const order = importanceOrder();
    if (order.length > MAX_PARAM_PLOTS)
      s.append(el("p", { class: "note", text: `Showing the ${MAX_PARAM_PLOTS} most important of ${P.length} parameters.` }));
    const grid = el("div", { class: "grid" });
    s.append(grid);
    const clip = logY ? null : clipRange(S.y);
    for (const i of order.slice(0, MAX_PARAM_PLOTS)) {
      const p = P[i], xs = S.x[i], discrete = p.type === "categorical" || p.type === "bool";
      const log = p.log && xs.every((v) => v === null || v > 0);
      const c = card(grid, `${p.name}` + (log ? " (log scale)" : "") + (discrete ? ` (${p.type})` : ""));
      const o = baseOptions();
      let sets;
      if (discrete) {
        const labels = choiceLabels(p);
        sets = trialDatasets((j) => (xs[j] === null ? null : xs[j] + 0.5 * jitter(S.id[j])));
        const med = labels.map((_, k) => {
          const ys = []; for (let j = 0; j < xs.length; j++) if (xs[j] === k && S.y[j] !== null) ys.push(S.y[j]);
          ys.sort((a, b) => a - b);
          return ys.length ? { x: k, y: ys[(ys.length - 1) >> 1] } : null;
        }).filter(Boolean);
        sets.push({ label: "group median", data: med, pointStyle: "line", pointRadius: 14, pointHoverRadius: 14,
                    borderWidth: 3, borderColor: COLOR.best, backgroundColor: COLOR.best });
        o.scales = { x: axis(p.name, false, { min: -0.5, max: labels.length - 0.5,
          afterBuildTicks: (sc) => { sc.ticks = labels.map((_, k) => ({ value: k })); },
          ticks: { autoSkip: labels.length > 12, maxRotation: 50,
                   callback: (v) => (Number.isInteger(v) && v >= 0 && v < labels.length ? short(labels[v], 14) : "") } }),
                     y: axis(yTitle, logY) };
        o.plugins.tooltip.callbacks.label = (ctx) => (ctx.raw.id === undefined ? `median of ${labels[ctx.raw.x]}: ${fmt(ctx.raw.y, 6)}`
          : `trial ${ctx.raw.id}: ${p.name} = ${labels[Math.round(ctx.raw.x)]}, ${metric} = ${fmt(ctx.raw.y, 6)}`);
      } else {
        sets = trialDatasets((j) => xs[j]);
        o.scales = { x: axis(p.name + (log ? " (log scale)" : ""), log), y: axis(yTitle, logY) };
        o.plugins.tooltip.callbacks.label = (ctx) => `trial ${ctx.raw.id}: ${p.name} = ${fmt(ctx.raw.x, 6)}, ${metric} = ${fmt(ctx.raw.y, 6)}`;
      }
      clipNote(c.card, chart(c.canvas, { type: "scatter", data: { datasets: sets }, options: o }, "param-" + p.name), clip);
    }
  }

  /* ---- parallel coordinates ------------------------------------------------------------ */
  function scaled(p, v) {
    if (v === null) return null;
    if (p.type === "categorical") return p.choices.length > 1 ? v / (p.choices.length - 1) : 0.5;
    if (p.type === "bool") return v;
    const lo = p.log ? Math.log10(p.low) : p.low, hi = p.log ? Math.log10(p.high) : p.high;
    const x = p.log ? Math.log10(v) : v;
    return hi > lo ? (x - lo) / (hi - lo) : 0.5;
  }
  function parcoords() {
    const where = new Map(S ? S.id.map((id, j) => [id, j]) : []);
    const rows = D.parcoords.map((id) => where.get(id)).filter((j) => j !== undefined);
    const s = section("parcoords", `Parallel coordinates of the top ${rows.length > 1 ? rows.length + " " : ""}trials`,
      "One line per trial, through one vertical axis per parameter and a last one for the metric. Each axis runs " +
      "from its parameter's lower bound (bottom) to its upper bound (top), on a log scale for log parameters; " +
      `categorical axes place their choices evenly; the ${metric} axis spans the values shown. Darker lines are better trials.`);
    if (rows.length < 2 || !P.length) { s.append(el("p", { text: "Needs at least two completed trials and one parameter." })); return; }
    const ys = rows.map((j) => S.y[j]);
    const ylo = Math.min(...ys), yhi = Math.max(...ys);
    const axes = P.map((p) => p.name).concat([metric]);
    const shade = (k) => { /* rank k of n: dark blue (best) to light blue */
      const f = rows.length > 1 ? k / (rows.length - 1) : 0, a = [8, 48, 107], b = [158, 202, 225];
      return `rgb(${a.map((v, i) => Math.round(v + f * (b[i] - v))).join(",")})`;
    };
    const sets = rows.map((j, k) => ({
      label: `trial ${S.id[j]} (rank ${k + 1})`, id: S.id[j], rank: k + 1,
      data: P.map((p, i) => scaled(p, S.x[i][j])).concat([yhi > ylo ? (S.y[j] - ylo) / (yhi - ylo) : 0.5]),
      borderColor: shade(k), backgroundColor: shade(k), borderWidth: k < 3 ? 2.5 : 1.2, pointRadius: 2, tension: 0,
    })).reverse();
    const rangeText = (i, end) => {
      if (i === P.length) return fmt(end ? yhi : ylo, 4);
      const p = P[i];
      if (p.type === "categorical" || p.type === "bool") return null;
      return fmt(end ? p.high : p.low, 3);
    };
    const axesPlugin = { id: "hpsAxes", afterDatasetsDraw(ch) {
      const g = ch.ctx, x = ch.scales.x, y = ch.scales.y;
      g.save();
      g.font = "11px system-ui, sans-serif";
      g.fillStyle = "#222";
      g.lineJoin = "round";
      const text = (t, tx, ty) => { /* with a white halo, readable over the lines */
        g.strokeStyle = "rgba(255,255,255,0.9)"; g.lineWidth = 3; g.strokeText(t, tx, ty); g.fillText(t, tx, ty);
      };
      /* On a narrow chart, range labels on every few axes only, and short choice labels. */
      const spacing = axes.length > 1 ? (x.getPixelForValue(axes.length - 1) - x.getPixelForValue(0)) / (axes.length - 1) : 100;
      const every = Math.max(1, Math.ceil(40 / spacing)), chars = Math.max(3, Math.min(10, Math.floor((spacing - 8) / 6.5)));
      const labelled = (i) => i === axes.length - 1 || (i % every === 0 && axes.length - 1 - i >= every);
      for (let i = 0; i < axes.length; i++) {
        const px = x.getPixelForValue(i), top = y.getPixelForValue(1), bot = y.getPixelForValue(0);
        g.strokeStyle = "#666"; g.lineWidth = 1;
        g.beginPath(); g.moveTo(px, top); g.lineTo(px, bot); g.stroke();
        g.textAlign = i === 0 ? "left" : i === axes.length - 1 ? "right" : "center";
        const p = P[i];
        if (p && (p.type === "categorical" || p.type === "bool")) {
          const labels = choiceLabels(p), step = labels.length > 1 ? (bot - top) / (labels.length - 1) : 0;
          const every = Math.max(1, Math.ceil(14 / Math.max(step, 1)));
          g.textAlign = i === axes.length - 1 ? "right" : "left";
          labels.forEach((l, k) => { if (k % every === 0 || k === labels.length - 1) {
            g.textBaseline = "middle";
            text(short(l, chars), px + (i === axes.length - 1 ? -4 : 4), labels.length > 1 ? bot - k * step : (top + bot) / 2);
          } });
          continue;
        }
        if (!labelled(i)) continue;
        g.textBaseline = "bottom"; text(rangeText(i, true), px, top - 3);
        g.textBaseline = "top"; text(rangeText(i, false), px, bot + 3);
      }
      g.restore();
    } };
    const o = baseOptions();
    o.parsing = true;
    o.layout = { padding: { top: 18, left: 6, right: 6 } };
    o.interaction = { mode: "nearest", intersect: false };
    o.plugins.legend.display = false;
    o.plugins.tooltip.callbacks = {
      title: (items) => items.length ? items[0].dataset.label : "",
      label(ctx) {
        const j = rows[ctx.dataset.rank - 1], i = ctx.dataIndex;
        if (i === P.length) return `${metric} = ${fmt(S.y[j], 6)}`;
        const p = P[i], v = S.x[i][j];
        return `${p.name} = ` + (p.type === "categorical" || p.type === "bool" ? choiceLabels(p)[v] : fmt(v, 6));
      },
    };
    o.scales = { x: { type: "category", offset: false, grid: { display: false },
                      ticks: { autoSkip: false, maxRotation: 45, callback: (v, k) => short(axes[k], 16) } },
                 y: { display: false, min: -0.08, max: 1.02 } };
    const c = card(s, `Top ${rows.length} trials across ${P.length} parameter${P.length > 1 ? "s" : ""} and ${metric}`, true,
                   64 * axes.length);
    c.card.append(el("p", { class: "note", text: "best " }, el("span", { class: "swatch" }), ` rank ${rows.length}`));
    chart(c.canvas, { type: "line", data: { labels: axes, datasets: sets }, options: o, plugins: [axesPlugin] }, "parcoords");
  }

  /* ---- learning curves ----------------------------------------------------------------- */
  function curves() {
    const cv = D.curves;
    const drawn = cv && cv.n_trials && cv.longest >= 2;
    const s = section("curves", "Learning curves", drawn ?
      `${metric} as each trial reported it along the way (@hpsweep lines, /metrics), one line per trial. ` +
      (MF ? "Colour: the largest budget the trial reached (its last rung); " : "Colour: the trial's status; ") +
      "dashed lines are pruned trials, thick lines the best trials." : null);
    if (!drawn) {
      s.append(el("p", { text: (cv && cv.n_trials ? `Every trial reported only its final value of ${metric}, so there are no curves to draw. `
                                                   : `No values of ${metric} were recorded in /metrics. `) +
        "A command objective reports intermediate values with @hpsweep lines; multi-fidelity strategies record one per rung." }));
      return;
    }
    if (cv.n_shown < cv.n_trials)
      s.append(el("p", { class: "note sampled", text: `Showing the curves of ${count(cv.n_shown)} of ${count(cv.n_trials)} trials: ` +
        `the ${count(cv.n_top)} best and an even sample of the rest; each curve has at most ${cv.max_points} points.` }));
    /* Groups: the budget reached (multi-fidelity; with the rung it is in each bracket
       that ran it), else the status. */
    const rungsAt = new Map();
    for (const l of cv.lines) if (MF && l.rung >= 0) rungsAt.set(l.budget, (rungsAt.get(l.budget) || new Set()).add(l.rung));
    const rungText = (b) => { const r = [...(rungsAt.get(b) || [])].sort((x, y) => x - y);
                              return r.length ? ` (rung${r.length > 1 ? "s" : ""} ${r.join(", ")})` : ""; };
    const groupOf = (l) => (MF ? `budget ${fmt(l.budget)}${rungText(l.budget)}` : l.status);
    const colorOf = (l) => (MF ? budgetColor(l.budget) : COLOR[l.status] || COLOR.done);
    const groups = new Map();
    const all = [];
    for (const l of cv.lines) {
      const pts = [];
      for (let k = 0; k < l.r.length; k++) if (l.v[k] !== null && l.r[k] !== null) pts.push({ x: l.r[k], y: l.v[k], id: l.id });
      all.push(...pts.map((p) => p.y));
      const best = l.rank !== null && l.rank <= cv.n_top;
      const g = groupOf(l);
      if (!groups.has(g)) groups.set(g, { color: colorOf(l), budget: l.budget, dashed: false });
      if (l.status === "pruned") groups.get(g).dashed = true;
      l.ds = { label: `trial ${l.id}`, group: g, data: pts, borderColor: alpha(colorOf(l), best ? 0.95 : 0.5),
               backgroundColor: colorOf(l), borderWidth: best ? 2.2 : 1, pointRadius: pts.length === 1 ? 2.5 : 0,
               pointHoverRadius: 3, borderDash: l.status === "pruned" ? [5, 4] : [], showLine: true, fill: false };
    }
    const log = wantLog(all);
    const o = baseOptions();
    o.interaction = { mode: "nearest", intersect: false };
    o.plugins.tooltip.callbacks.label = (ctx) => `${ctx.dataset.label} (${ctx.dataset.group}): ${metric} = ${fmt(ctx.raw.y, 6)} at ${fmt(ctx.raw.x)}`;
    o.plugins.legend.labels.generateLabels = () => [...groups.entries()]
      .sort((a, b) => (MF ? a[1].budget - b[1].budget : a[0].localeCompare(b[0])))
      .map(([g, v]) => ({ text: g + (v.dashed && g !== "pruned" ? " · dashed: pruned" : ""), fillStyle: v.color,
                          strokeStyle: v.color, lineWidth: 2, lineDash: g === "pruned" ? [5, 4] : [], pointStyle: "line",
                          hidden: false, group: g }));
    o.plugins.legend.labels.usePointStyle = true;
    o.plugins.legend.onClick = (e, item, legend) => {
      const ch = legend.chart;
      for (const d of ch.data.datasets) if (d.group === item.group) d.hidden = !d.hidden;
      ch.update();
    };
    o.scales = { x: axis(MF ? "budget (resource units the trials reported)" : "step or resource (as the trials reported it)"),
                 y: axis(metric + (log ? " (log scale)" : ""), log) };
    const c = card(s, `${metric} per step for ${count(cv.n_shown)} trials`, true);
    clipNote(c.card, chart(c.canvas, { type: "scatter", data: { datasets: cv.lines.map((l) => l.ds).reverse() }, options: o }, "curves"),
             log ? null : clipRange(all));
  }

  /* ---- tables ------------------------------------------------------------------------- */
  function topTable() {
    const rows = D.top.rows;
    const s = section("top", rows.length ? `Top ${rows.length} trials` : "Top trials",
      `Ranked as hpsweep best ranks them (${MF ? "the largest budget first, then " : ""}the ${D.sweep.goal === "maximize" ? "largest" : "smallest"} ${metric}). ` +
      "Values are rounded here; hover a cell for its exact value. The first row is what hpsweep best prints.");
    if (!rows.length) { s.append(el("p", { text: "No trial has completed yet." })); return; }
    const numCell = (v, digits) => el("td", { class: "num", "data-v": JSON.stringify(v), title: JSON.stringify(v), text: fmt(v, digits) });
    const head = ["#", "trial", metric].concat(MF ? ["budget"] : [], P.map((p) => p.name), ["seconds", "seed"]);
    const numeric = head.map((h, k) => k < 3 || h === "budget" || h === "seconds" || h === "seed" ||
                             (k >= head.length - 2 - P.length && k < head.length - 2 && typeof rows[0].params[k - (head.length - 2 - P.length)] === "number"));
    const body = rows.map((r, k) => el("tr", { class: k === 0 ? "best" : "", "data-trial": String(r.trial_id) },
      el("td", { class: "num", text: String(r.rank) }), numCell(r.trial_id), numCell(r.value, 6),
      MF ? numCell(r.budget, 6) : null,
      ...r.params.map((v, i) => (typeof v === "number" ? numCell(v, 6)
        : el("td", { "data-v": JSON.stringify(v), title: JSON.stringify(v), text: short(v, 24), "data-param": P[i].name }))),
      numCell(r.seconds, 3), el("td", { class: "num", "data-v": r.seed, text: r.seed })));
    s.append(el("div", { class: "scroll card" }, el("table", { id: "top-table" },
      el("thead", {}, el("tr", {}, ...head.map((h, k) => el("th", { class: numeric[k] ? "num" : "", text: h })))),
      el("tbody", {}, ...body))));
  }
  function kvTable(id, pairs) {
    return el("div", { class: "scroll" }, el("table", { id }, el("tbody", {},
      ...pairs.map(([k, v]) => el("tr", {}, el("td", { class: "kv-key", text: k }), el("td", { class: "kv-value", text: v }))))));
  }
  function failures() {
    const f = D.failures, c = D.counts;
    const s = section("failures", "Failures by cause",
      `${count(f.n_failed)} failed, ${count(c.pruned)} pruned (stopped early, not failures), ${count(c.interrupted)} interrupted (re-run on resume).`);
    if (!f.n_failed) { s.append(el("p", { text: "No trial failed." })); return; }
    const rows = f.causes.map((x) => el("tr", {}, el("td", { text: x.cause }), el("td", { class: "num", text: count(x.count) }),
      el("td", { class: "num", text: String(x.example.trial_id) }), el("td", { class: "num", text: String(x.example.exit_code) }),
      el("td", { class: "num", text: String(x.example.attempts) })));
    if (f.other) rows.push(el("tr", {}, el("td", { text: `${count(f.n_causes - f.causes.length)} other causes` }), el("td", { class: "num", text: count(f.other) })));
    s.append(el("div", { class: "scroll card" }, el("table", { id: "failure-table" },
      el("thead", {}, el("tr", {}, ...["cause", "trials", "example trial", "its exit code", "attempts"].map((h, k) => el("th", { class: k ? "num" : "", text: h })))),
      el("tbody", {}, ...rows))));
    let shown = 0;
    for (const x of f.causes) {
      if (!x.example.stderr_tail) continue;
      const lines = x.example.stderr_tail.replace(/\s+$/, "").split("\n");
      s.append(el("details", Object.assign({ class: "stderr" }, shown++ < 3 ? { open: "" } : {}), el("summary", { text: `${x.cause}: the end of trial ${x.example.trial_id}'s stderr` }),
        el("pre", { text: lines.slice(-20).join("\n") })));
    }
  }
  function settings() {
    const s = section("settings", "Sweep and provenance");
    const sw = D.sweep;
    const sweepRows = [["name", sw.name], ["strategy", sw.strategy], ["objective", sw.objective], ["metric", metric],
      ["goal", sw.goal], ["seed", sw.seed], ["status", sw.status], ["created", sw.created], ["updated", sw.updated],
      ["parameters", P.map((p) => p.name + " (" + p.type + (p.log ? ", log" : "") + ")").join(", ")],
      ["format_version", String(sw.format_version)], ["written by", "hpsweep " + sw.hpsweep_version]];
    const need = ["hpsweep_version", "hpsweep_commit", "hosts", "ranks", "cpu_model", "gpus", "nvidia_driver", "start_time", "user_code_commit"];
    const prov = D.provenance.slice();
    for (const k of need) if (!prov.some((p) => p[0] === k)) prov.push([k, "not recorded"]);
    s.append(el("div", { class: "grid" },
      el("div", { class: "card" }, el("h3", { text: "Sweep" }), kvTable("sweep-table", sweepRows)),
      el("div", { class: "card" }, el("h3", { text: "Provenance (/provenance)" }), kvTable("provenance-table", prov))));
    s.append(el("details", {}, el("summary", { text: "The sweep's configuration (YAML, as recorded)" }), el("pre", { text: D.config || "" })));
    document.getElementById("footer").append(el("p", { text:
      `Made by ${D.generator || "hpsweep"}${D.generated ? " on " + D.generated : ""} from sweep.h5. ` +
      "Self-contained: it needs no network. Plots drawn with Chart.js 3.9.1 (MIT licence, its text is in this file)." }));
  }

  for (const part of [summary, history, importance, params, parcoords, curves, topTable, failures, settings]) {
    try { part(); } catch (e) {
      state.errors.push(part.name + ": " + e);
      console.error("hpsweep report: " + part.name + ": " + (e && e.stack ? e.stack : e));
    }
  }
  state.renderMs = performance.now() - t0;
  document.body.setAttribute("data-ready", "1");
})();
