#!/usr/bin/env bash
# Looks at a vst report the way a person does: renders its index.html in headless Chromium and checks the
# screenshot is a real page (not blank, not an error page) and that every figure the page references loads.
#
# Usage: scripts/check-report.sh [REPORT_DIR]   (default: vst-report; run `make demo` or `vst demo` first)
# Installs Debian's chromium package when it is missing. Writes REPORT_DIR/screenshot.png.
# Exit status: 0 when the page renders with its figures, 1 when it does not, 2 when it cannot check.
set -euo pipefail
dir="${1:-vst-report}"
[ -f "$dir/index.html" ] || { echo "check-report: $dir/index.html not found (run: make demo)" >&2; exit 2; }

browser=""
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null 2>&1 && { browser="$b"; break; }; done
if [ -z "$browser" ]; then
  echo "check-report: installing chromium (Debian package)" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null || { echo "check-report: cannot install chromium" >&2; exit 2; }
  browser=chromium
fi

# Every figure the page references must exist and be well-formed SVG.
missing=0
for f in $(grep -o 'src="[^"]*"' "$dir/index.html" | sed 's/src="\(.*\)"/\1/'); do
  if [ ! -s "$dir/$f" ]; then echo "check-report: figure $f is missing" >&2; missing=1; continue; fi
  python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$dir/$f" || { echo "check-report: $f is not well-formed SVG" >&2; missing=1; }
done

shot="$dir/screenshot.png"
abs="$(cd "$dir" && pwd)"
rm -f "$shot"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,6000 \
  --screenshot="$shot" "file://$abs/index.html" >/dev/null 2>&1 || true
[ -s "$shot" ] || { echo "check-report: $browser wrote no screenshot" >&2; exit 2; }

# The screenshot must show a page: enough non-white pixels, spread down the page (figures below the fold render too).
python3 -c 'import PIL' 2>/dev/null || pip install --quiet pillow >/dev/null 2>&1 || pip install --quiet --break-system-packages pillow >/dev/null
python3 - "$shot" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("L")
w, h = im.size
px = im.load()
rows = [sum(1 for x in range(0, w, 4) if px[x, y] < 200) for y in range(h)]
inked = [r for r in rows if r > 0]
tenth = max(1, h // 10)
bands = [sum(rows[i:i + tenth]) > 0 for i in range(0, h, tenth)]
print(f"check-report: screenshot {w}x{h}, {len(inked)} rows with ink, {sum(bands)}/{len(bands)} tenths of the page used")
if len(inked) < h * 0.2 or sum(bands) < 6:
    print("check-report: the page looks empty or truncated", file=sys.stderr); sys.exit(1)
EOF
[ "$missing" -eq 0 ] || exit 1
echo "check-report: $dir/index.html renders with all its figures ($shot)"
