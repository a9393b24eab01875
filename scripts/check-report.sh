#!/usr/bin/env bash
# Looks at a vst report the way a person does, in a real browser (headless Chromium), and checks what a reader must be
# able to trust at a glance:
#   - every figure the page references loads and is well-formed SVG;
#   - every numeric axis of every figure has at least 3 labelled ticks, and no legend box covers a data point;
#   - tables hold numbers for people: no raw JSON ("R2", null), no 16-digit floats;
#   - the page is self-contained: no http(s) address in index.html (the viewer's script and data are inlined);
#   - every interactive core viewer turns and zooms: the page's test hook (index.html#selftest) drags and wheels each
#     viewer with synthetic pointer events and compares the canvas pixels before and after;
#   - no two labels of a figure overlap (ticks, threshold labels, value labels, legend entries, titles), and no
#     threshold label covers a data point — measured on the text as the browser renders it;
#   - every local link of index.html and reports.html (figures, report.json, sub-reports) resolves to a file;
#   - the page renders (not blank, figures below the fold too), with a screenshot of each section.
# A report directory with sub-reports (`vst demo`, `make quality` and the scale-out driver write reports.html, which
# links one report per analysis) is checked page by page: index.html, every page reports.html links, every
# */index.html.
#
# Usage: scripts/check-report.sh [REPORT_DIR]   (default: vst-report; run `make demo` or `vst demo` first)
# Installs Debian's chromium package when it is missing. Writes REPORT_DIR/screenshot.png (the whole page) and
# REPORT_DIR/screenshots/NN-section.png (one per section of index.html).
# Exit status: 0 when every check passes, 1 when one fails, 2 when it cannot check.
set -euo pipefail
dir="${1:-vst-report}"
[ -f "$dir/index.html" ] || [ -f "$dir/reports.html" ] || { echo "check-report: neither $dir/index.html nor $dir/reports.html found (run: make demo)" >&2; exit 2; }

browser=""
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null 2>&1 && { browser="$b"; break; }; done
if [ -z "$browser" ]; then
  echo "check-report: installing chromium (Debian package)" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null || { echo "check-report: cannot install chromium" >&2; exit 2; }
  browser=chromium
fi
python3 -c 'import PIL' 2>/dev/null || pip install --quiet pillow >/dev/null 2>&1 || pip install --quiet --break-system-packages pillow >/dev/null

failed=0
abs="$(cd "$dir" && pwd)"
chrome=("$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files)

# The pages to check, and every local link of reports.html and of each page resolves (reports.html lists the pages).
pages="$(python3 - "$abs" <<'EOF'
import html, os, re, sys
from urllib.parse import unquote, urlsplit
root = sys.argv[1]
pages, bad = [], []
def links(path):
    return [html.unescape(m) for m in re.findall(r'(?:href|src)="([^"]*)"', open(path, encoding="utf-8").read())]
def target(base, link):
    u = urlsplit(link)
    if u.scheme or u.netloc or not u.path: return None   # another site, a data: URL or an anchor
    return os.path.normpath(os.path.join(base, unquote(u.path)))
def add(p):
    if os.path.isfile(p) and p not in pages: pages.append(p)
add(os.path.join(root, "index.html"))
index = os.path.join(root, "reports.html")
if os.path.isfile(index):
    n = 0
    for link in links(index):
        t = target(root, link)
        if t is None: continue
        n += 1
        if not os.path.isfile(t): bad.append(f"reports.html links {link}, which does not exist")
        elif t.endswith("index.html"): add(t)
    if n == 0: bad.append("reports.html links no report")
    print(f"check-report: reports.html: {n} links resolve" if not bad else f"check-report: reports.html: {n} links", file=sys.stderr)
for sub in sorted(os.listdir(root)):
    add(os.path.join(root, sub, "index.html"))
for p in pages:
    for link in links(p):
        t = target(os.path.dirname(p), link)
        if t is not None and not os.path.isfile(t): bad.append(f"{os.path.relpath(p, root)} links {link}, which does not exist")
for b in bad: print(f"check-report: {b}", file=sys.stderr)
print(" ".join(pages))
sys.exit(1 if bad else 0)
EOF
)" || failed=1
# An index of JSON results only (the scale-out driver's) has no page to render: its links are all there is to check.
[ -n "$pages" ] || [ -f "$abs/reports.html" ] || { echo "check-report: $dir: no report page to check" >&2; exit 2; }

for page in $pages; do
  pdir="$(dirname "$page")"
  rel="${page#"$abs"/}"
  # Figures and tables, read from the files.
  python3 - "$pdir" "$rel" <<'EOF' || failed=1
import re, sys, os, xml.dom.minidom as minidom
pdir, rel = sys.argv[1], sys.argv[2]
html = open(os.path.join(pdir, "index.html"), encoding="utf-8").read()
bad = []
if re.search(r"https?://", html): bad.append("index.html names an http(s) address (the page must be self-contained)")
for cell in re.findall(r"<td[^>]*>(.*?)</td>", html):
    sig = max([len(re.sub(r"^[0.]+", "", m.replace(".", "", 0)).replace(".", "")) for m in re.findall(r"\d+\.\d+", cell)] or [0])
    if cell in ("null", "nan", "NaN", "inf") or re.fullmatch(r"&quot;.*&quot;|\".*\"", cell) or sig > 6:
        bad.append(f"table cell {cell!r} is not formatted for people")
def num(e, a):
    try: return float(e.getAttribute(a) or 0)
    except ValueError: return 0.0
for src in re.findall(r'<img[^>]*src="([^"]+)"', html):
    path = os.path.join(pdir, src)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        bad.append(f"figure {src} is missing"); continue
    try: doc = minidom.parse(path)
    except Exception as e: bad.append(f"{src} is not well-formed SVG: {e}"); continue
    groups = doc.getElementsByTagName("g")
    if (doc.getElementsByTagName("circle") or doc.getElementsByTagName("polyline")) and not any("axis" in g.getAttribute("class").split() for g in groups):
        bad.append(f"{src}: a chart without marked-up axes (cannot tell its ticks)")
    for g in groups:
        cls = g.getAttribute("class").split()
        if "axis" in cls and "numeric" in cls:
            ticks = [t for t in g.getElementsByTagName("text") if "tick" in t.getAttribute("class").split()]
            labels = [t.firstChild.data for t in ticks if t.firstChild]
            if len(set(labels)) < 3: bad.append(f"{src}: the {cls[1]} axis has {len(set(labels))} labelled ticks ({', '.join(labels)}), needs 3")
    boxes = [r for r in doc.getElementsByTagName("rect") if "legend-box" in r.getAttribute("class").split()]
    marks = []
    for c in doc.getElementsByTagName("circle"):
        if "point" in c.getAttribute("class").split(): marks.append((num(c, "cx"), num(c, "cy"), num(c, "r")))
    for p in doc.getElementsByTagName("polyline"):
        for xy in p.getAttribute("points").split():
            x, y = xy.split(","); marks.append((float(x), float(y), 1.0))
    for r in doc.getElementsByTagName("rect"):
        if "point" in r.getAttribute("class").split():
            x, y, w, h = num(r, "x"), num(r, "y"), num(r, "width"), num(r, "height")
            marks += [(x, y, 0), (x + w, y, 0), (x + w / 2, y, 0)]
    for b in boxes:
        x0, y0 = num(b, "x"), num(b, "y"); x1, y1 = x0 + num(b, "width"), y0 + num(b, "height")
        hits = [m for m in marks if x0 - m[2] <= m[0] <= x1 + m[2] and y0 - m[2] <= m[1] <= y1 + m[2]]
        if hits: bad.append(f"{src}: the legend box covers {len(hits)} data point(s), first at {hits[0][:2]}")
for b in bad: print(f"check-report: {rel}: {b}", file=sys.stderr)
print(f"check-report: {rel}: {len(re.findall(r'<img', html))} figures, {len(re.findall(r'<td[ >]', html))} table cells checked" + ("" if not bad else f", {len(bad)} problem(s)"))
sys.exit(1 if bad else 0)
EOF

  # Labels, measured as the browser lays the text out: every figure of the page inlined into one harness page whose
  # script compares the rendered boxes of all text (1.5 px of slack) and of the data marks.
  harness="$(mktemp --suffix=.html)"
  python3 - "$pdir" "$harness" <<'EOF'
import os, re, sys
pdir, out = sys.argv[1], sys.argv[2]
html = open(os.path.join(pdir, "index.html"), encoding="utf-8").read()
figs = []
for src in dict.fromkeys(re.findall(r'<img[^>]*src="([^"]+\.svg)"', html)):
    path = os.path.join(pdir, src)
    if os.path.isfile(path):
        svg = re.sub(r"<\?xml[^>]*\?>", "", open(path, encoding="utf-8").read())
        figs.append(f'<div class="fig" data-src="{src}">{svg}</div>')
script = r"""
function box(e) { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }
function meet(a, b, s) { return a[0] + s < b[2] && b[0] + s < a[2] && a[1] + s < b[3] && b[1] + s < a[3]; }
const res = [];
for (const div of document.querySelectorAll("div.fig")) {
  const svg = div.querySelector("svg"), problems = [];
  const texts = [...svg.querySelectorAll("text")].filter(t => t.textContent.trim() !== "")
    .map(t => ({ t: t.textContent.trim(), c: (t.getAttribute("class") || "").split(" "), b: box(t) }));
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
    if (meet(texts[i].b, texts[j].b, 1.5)) problems.push(`labels "${texts[i].t}" and "${texts[j].t}" overlap`);
  const marks = [], m = svg.getScreenCTM();
  svg.querySelectorAll("circle.point").forEach(c => marks.push(box(c)));
  svg.querySelectorAll("rect.point").forEach(r => marks.push(box(r)));
  svg.querySelectorAll("polyline.series").forEach(p => { for (const q of p.points) { const s = new DOMPoint(q.x, q.y).matrixTransform(m); marks.push([s.x - 1, s.y - 1, s.x + 1, s.y + 1]); } });
  for (const t of texts.filter(t => t.c.includes("threshold-label") || t.c.includes("annotation"))) {
    const n = marks.filter(k => meet(t.b, k, 0.5)).length;
    if (n) problems.push(`label "${t.t}" covers ${n} data mark(s)`);
  }
  res.push({ src: div.dataset.src, labels: texts.length, problems });
}
const pre = document.createElement("pre"); pre.id = "vst-labels"; pre.textContent = JSON.stringify(res); document.body.appendChild(pre);
"""
open(out, "w", encoding="utf-8").write('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
    + "\n".join(figs) + "<script>" + script + "</script></body></html>")
EOF
  ldom="$(mktemp)"
  timeout 120 "${chrome[@]}" --virtual-time-budget=3000 --window-size=1200,900 --dump-dom "file://$harness" >"$ldom" 2>/dev/null || true
  python3 - "$ldom" "$rel" <<'EOF' || failed=1
import html, json, re, sys
dom, rel = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
m = re.search(r'<pre id="vst-labels">(.*?)</pre>', dom, re.S)
if not m: print(f"check-report: {rel}: the label check did not run in the browser", file=sys.stderr); sys.exit(1)
figs = json.loads(html.unescape(m.group(1)))
bad = [f"{f['src']}: {p}" for f in figs for p in f["problems"]]
for b in bad: print(f"check-report: {rel}: {b}", file=sys.stderr)
print(f"check-report: {rel}: {sum(f['labels'] for f in figs)} labels in {len(figs)} figures measured" + (f", {len(bad)} overlap(s)" if bad else ", none overlap"))
sys.exit(1 if bad else 0)
EOF
  rm -f "$harness" "$ldom"

  # The page in the browser: its test hook turns every viewer and reports section positions and image loads.
  dom="$(mktemp)"
  timeout 120 "${chrome[@]}" --virtual-time-budget=8000 --window-size=1200,900 --dump-dom "file://$page#selftest" >"$dom" 2>/dev/null || true
  height="$(python3 - "$dom" "$rel" <<'EOF'
import html, json, re, sys
dom, rel = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
m = re.search(r'<pre id="vst-selftest">(.*?)</pre>', dom, re.S)
viewers_expected = len(re.findall(r'class="vst-viewer"', dom))
if not m:
    if viewers_expected: print(f"check-report: {rel}: the viewer's test hook did not run", file=sys.stderr); print("FAIL 6000")
    else: print("OK 6000")
    sys.exit(0)
r = json.loads(html.unescape(m.group(1)))
bad = []
for v in r["viewers"]:
    if v["inked"] == 0: bad.append(f"viewer {v['id']} draws nothing")
    if v["changedByDrag"] == 0: bad.append(f"viewer {v['id']} does not turn when dragged")
    if v["changedByWheel"] == 0: bad.append(f"viewer {v['id']} does not zoom on the wheel")
    print(f"check-report: {rel}: viewer {v['id']}: drag changed {v['changedByDrag']} pixels, wheel {v['changedByWheel']}", file=sys.stderr)
if len(r["viewers"]) != viewers_expected: bad.append(f"{len(r['viewers'])} of {viewers_expected} viewers started")
for i in r["images"]:
    if not i["loaded"]: bad.append(f"figure {i['src']} does not load in the browser")
for b in bad: print(f"check-report: {rel}: {b}", file=sys.stderr)
json.dump(r["sections"], open(sys.argv[1] + ".sections.json", "w"))
print(("FAIL " if bad else "OK ") + str(int(r["pageHeight"]) + 20))
EOF
)"
  case "$height" in FAIL*) failed=1 ;; esac
  height="${height#* }"

  # Screenshot of the whole page (window as tall as the page), and of each section of the top page.
  shot="$pdir/screenshot.png"
  rm -f "$shot"
  timeout 120 "${chrome[@]}" --window-size=1200,"$height" --virtual-time-budget=5000 --screenshot="$shot" "file://$page" >/dev/null 2>&1 || true
  [ -s "$shot" ] || { echo "check-report: $browser wrote no screenshot of $rel" >&2; exit 2; }
  python3 - "$shot" "$dom.sections.json" "$rel" "$([ "$page" = "$abs/index.html" ] && echo "$pdir/screenshots" || echo "")" <<'EOF' || failed=1
import json, os, re, sys
from PIL import Image
shot, sections, rel, outdir = sys.argv[1:5]
im = Image.open(shot).convert("RGB")
g = im.convert("L")
w, h = g.size
px = g.load()
# A page without the test hook is shot in a tall window: judge the page down to its last inked row only.
last = max((y for y in range(h - 1, -1, -8) if any(px[x, y] < 200 for x in range(0, w, 4))), default=h - 1)
if last + 40 < h:
    im = im.crop((0, 0, w, last + 40)); g = im.convert("L"); w, h = g.size; px = g.load(); im.save(shot)
rows = [sum(1 for x in range(0, w, 4) if px[x, y] < 200) for y in range(h)]
inked = [r for r in rows if r > 0]
tenth = max(1, h // 10)
bands = [sum(rows[i:i + tenth]) > 0 for i in range(0, h, tenth)]
print(f"check-report: {rel}: screenshot {w}x{h}, {len(inked)} rows with ink, {sum(bands)}/{len(bands)} tenths of the page used")
if outdir and os.path.exists(sections):
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        if f.endswith(".png"): os.remove(os.path.join(outdir, f))
    for i, s in enumerate(json.load(open(sections))):
        top, bottom = int(s["top"]), min(h, int(s["top"] + s["height"]) + 4)
        if bottom - top < 10: continue
        name = re.sub(r"[^a-z0-9]+", "-", s["heading"].lower()).strip("-")[:48] or "section"
        im.crop((0, top, w, bottom)).save(os.path.join(outdir, f"{i + 1:02d}-{name}.png"))
    print(f"check-report: {rel}: section screenshots in {outdir}")
if len(inked) < h * 0.2 or sum(bands) < 6:
    print(f"check-report: {rel}: the page looks empty or truncated", file=sys.stderr); sys.exit(1)
EOF
  rm -f "$dom" "$dom.sections.json"
done

[ "$failed" -eq 0 ] || { echo "check-report: $dir: some checks failed (see above)" >&2; exit 1; }
echo "check-report: $dir: every page renders with its figures, axes are labelled, labels and legends clear each other and the data, links resolve, viewers turn"
