#!/usr/bin/env python3
"""Render an hpsweep report in headless Chromium and check it as a reader would.

Standard library only: Chromium is driven over the DevTools protocol through
--remote-debugging-pipe (JSON messages separated by NUL bytes on fds 3 and 4),
so no websocket client is needed. Used by test_report.sh:

  report_check.py --chromium chromium --html report.html --width 1280 \
      --screenshot out.png [--best best.json] [--min-charts 6] [--sampled] \
      [--budget-s 60] [--clip-height 1500 --scale 0.6]

Checks, each a failure with its reason:
  * the page reports ready (body[data-ready]) within --budget-s seconds;
  * no console error, no uncaught exception, no error the page itself caught;
  * no request other than the report file itself and data: URLs (the page's
    Content-Security-Policy would block them anyway; this sees the attempt), and
    no http(s) URL in any script src, link href, img src, iframe or CSS url();
  * at least --min-charts charts, each with data points, and every canvas has
    drawn pixels;
  * the page is no wider than the window (wide tables scroll in their box);
  * with --best (the output of `hpsweep best --format json`): the top-trials
    table's first row and the page's "as hpsweep best prints it" block hold the
    same trial, seed, metric value and parameters;
  * with --sampled: the page says it shows a sample ("Showing N of M");
  * each --expect-text is in the page's text, each --expect-legend in some
    chart's legend.
Then it saves a full-page screenshot (or the top --clip-height pixels scaled by
--scale) and prints one line of figures.
"""
import argparse
import base64
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time


class Browser:
    """A headless Chromium and one page, over the DevTools pipe."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="hps-chromium-")
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def fds():
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds)
        os.close(cmd_r)
        os.close(res_w)
        self.next_id = 0
        self.messages = queue.Queue()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", session=True)

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self.res_r, 1 << 16)
            if not chunk:
                self.messages.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self.messages.put(json.loads(msg))

    def call(self, method, params=None, session=False, timeout=120):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            try:
                m = self.messages.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                raise RuntimeError(f"{method}: no answer from Chromium in {timeout} s")
            if m is None:
                raise RuntimeError(f"{method}: Chromium exited")
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, session=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except RuntimeError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        shutil.rmtree(self.profile, ignore_errors=True)


# What the page is asked once it is ready: everything the checks need, as JSON.
PAGE_FACTS = r"""(() => {
  const r = window.hpsReport || {};
  const ext = [];
  const bad = (u) => /^\s*(https?:)?\/\//i.test(u || "");
  for (const e of document.querySelectorAll("script[src],img[src],iframe,video,audio,source,embed,object"))
    ext.push(e.outerHTML.slice(0, 120));
  for (const e of document.querySelectorAll("link[href]")) if (bad(e.getAttribute("href"))) ext.push(e.outerHTML.slice(0, 120));
  for (const s of document.querySelectorAll("style")) for (const m of s.textContent.matchAll(/url\(([^)]*)\)|@import[^;]*/g))
    if (!/^\s*["']?data:/.test(m[1] || "")) ext.push(m[0]);
  const canvases = [...document.querySelectorAll("canvas")].map((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4 * 7) if (d[i] > 0) ink++;
    return { w: c.width, h: c.height, ink, label: c.getAttribute("aria-label") };
  });
  const row = document.querySelector("#top-table tbody tr");
  const head = [...document.querySelectorAll("#top-table thead th")].map((t) => t.textContent);
  const cells = row ? [...row.children].map((td) => td.getAttribute("data-v")) : [];
  const best = document.getElementById("best-json");
  return JSON.stringify({
    ready: document.body.getAttribute("data-ready"), charts: r.charts || [], errors: r.errors || [],
    renderMs: r.renderMs, external: ext, canvases,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    head, cells, bestJson: best ? best.textContent : null,
    sampled: [...document.querySelectorAll(".sampled")].map((e) => e.textContent),
    sections: [...document.querySelectorAll("section h2")].map((e) => e.textContent),
    text: document.body.innerText,
  });
})()"""


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and float(a) == float(b)
    return a == b and type(a) is type(b)


def check_best(facts, best, errors):
    """The table's first row and the best-json block against `hpsweep best --format json`."""
    metric = [k for k in best if k not in ("trial_id", "seed", "params")][0]
    head, cells = facts["head"], facts["cells"]
    if not cells:
        errors.append("the top-trials table has no row")
        return
    row = dict(zip(head, cells))
    want = {"trial": best["trial_id"], metric: best[metric], "seed": best["seed"]}
    want.update(best["params"])
    for col, value in want.items():
        if col not in row:
            errors.append(f"top table: no column {col!r} (columns {head})")
            continue
        raw = row[col]
        got = int(raw) if col == "seed" else json.loads(raw)
        if not same_value(got, value):
            errors.append(f"top table row 1, {col}: {got!r} but hpsweep best says {value!r}")
    try:
        page_best = json.loads(facts["bestJson"] or "")
    except ValueError as e:
        errors.append(f"the best-json block does not parse: {e}")
        return
    if set(page_best) != set(best) or page_best["trial_id"] != best["trial_id"] or \
            page_best["seed"] != best["seed"] or not same_value(page_best[metric], best[metric]) or \
            set(page_best["params"]) != set(best["params"]) or \
            not all(same_value(page_best["params"][k], v) for k, v in best["params"].items()):
        errors.append(f"best-json block {page_best} differs from hpsweep best {best}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--html", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--screenshot")
    ap.add_argument("--clip-height", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--best")
    ap.add_argument("--min-charts", type=int, default=1)
    ap.add_argument("--sampled", action="store_true")
    ap.add_argument("--budget-s", type=float, default=60)
    ap.add_argument("--expect-text", action="append", default=[])
    ap.add_argument("--expect-legend", action="append", default=[])
    a = ap.parse_args()

    url = "file://" + os.path.abspath(a.html)
    b = Browser(a.chromium)
    errors = []
    try:
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": a.width, "height": a.height, "deviceScaleFactor": 1,
                "mobile": a.width < 600}, session=True)
        start = time.time()
        b.call("Page.navigate", {"url": url}, session=True)
        ready = None
        while time.time() - start < a.budget_s:
            ready = b.evaluate("document.body && document.body.getAttribute('data-ready')")
            if ready == "1":
                break
            time.sleep(0.05)
        load_s = time.time() - start
        if ready != "1":
            errors.append(f"not ready after {a.budget_s} s")
        facts = json.loads(b.evaluate(PAGE_FACTS))

        for ev in b.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append("console error: " + " ".join(str(x.get("value", x.get("description")))
                                                          for x in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                errors.append("exception: " + json.dumps(p.get("exceptionDetails"))[:500])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append("log error: " + p["entry"].get("text", ""))
            elif m == "Network.requestWillBeSent":
                u = p.get("request", {}).get("url", "")
                if u != url and not u.startswith("data:"):
                    errors.append("network request: " + u)
        errors += ["page error: " + e for e in facts["errors"]]
        errors += ["external reference: " + e for e in facts["external"]]
        charts = facts["charts"]
        if len(charts) < a.min_charts:
            errors.append(f"{len(charts)} charts, expected at least {a.min_charts}")
        errors += [f"chart {c['name']} has no data" for c in charts if c["points"] == 0]
        errors += [f"canvas {c['label']!r} ({c['w']}x{c['h']}) is blank"
                   for c in facts["canvases"] if c["ink"] == 0 or c["w"] == 0]
        if facts["scrollWidth"] > facts["innerWidth"]:
            errors.append(f"page is {facts['scrollWidth']} px wide in a {facts['innerWidth']} px window")
        if a.best:
            with open(a.best) as f:
                check_best(facts, json.load(f), errors)
        for t in a.expect_text:
            if t not in facts["text"]:
                errors.append(f"the page does not show {t!r}")
        legends = [item for c in charts for item in c.get("legend", [])]
        for t in a.expect_legend:
            if not any(t in item for item in legends):
                errors.append(f"no chart legend mentions {t!r} (legends: {legends})")
        if a.sampled and not any(re.search(r"Showing [\d,]+ of [\d,]+", s) for s in facts["sampled"]):
            errors.append("the page does not say it shows a sample")

        if a.screenshot:
            params = {"format": "png", "captureBeyondViewport": True}
            if a.clip_height:
                params["clip"] = {"x": 0, "y": 0, "width": a.width, "height": a.clip_height,
                                  "scale": a.scale}
            else:
                size = b.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
                params["clip"] = {"x": 0, "y": 0, "width": a.width,
                                  "height": min(size["height"], 20000), "scale": a.scale}
            shot = b.call("Page.captureScreenshot", params, session=True)
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    finally:
        b.close()

    points = sum(c["points"] for c in facts["charts"])
    print(f"{os.path.basename(a.html)} at {a.width} px: ready in {load_s:.2f} s (page script "
          f"{(facts['renderMs'] or 0) / 1000:.2f} s), {len(facts['charts'])} charts, {points} points, "
          f"{len(facts['canvases'])} canvases, sections: {', '.join(facts['sections'])}")
    for s in facts["sampled"]:
        print("  says: " + s)
    if errors:
        for e in errors:
            print("FAIL: " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
