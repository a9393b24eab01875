import Foundation
import Linear

/// An interactive 3-D view of a k-D core (k ≤ 9 in vST) for HTML reports: the reader picks any three core axes,
/// turns the cloud by dragging and zooms with the wheel, toggles each point set (real, generated …) and, when a set
/// is a trajectory, moves a slider over its sampler steps. Orthographic projection of the chosen coordinates
/// (zᵢ, zⱼ, zₖ), centred and scaled by their range over every set and step, rotated by yaw ψ about the vertical
/// and pitch θ about the horizontal axis: (x′, y′, depth) = R_x(θ) R_y(ψ) z; points are painted far to near.
///
/// Self-contained: the data are inlined as JSON and the script (`CoreViewer.script`, a few hundred lines of
/// hand-written canvas code) is inlined once per page, so the report works offline and loads nothing. The static SVG
/// of the section stays in the page as the fallback (no script) and for printing.
public struct CoreViewer: Sendable {
    /// One set of points: a single frame [n, k] or, for a trajectory, one frame per recorded sampler step.
    public struct PointSet: Sendable {
        public var name: String
        public var color: String
        /// frames[f] holds n·k coordinates, row-major.
        public var frames: [[Double]]
        public var n: Int
        public var visible: Bool
        public init(name: String, color: String, points: Tensor<Double>, visible: Bool = true) {
            self.name = name; self.color = color; self.n = points.shape[0]; self.visible = visible
            self.frames = [points.scalars]
        }
        /// A trajectory: one [n, k] tensor per recorded step (all the same shape).
        public init(name: String, color: String, frames: [Tensor<Double>], visible: Bool = true) {
            self.name = name; self.color = color; self.n = frames.first?.shape[0] ?? 0; self.visible = visible
            self.frames = frames.map { $0.scalars }
        }
    }

    public var title: String
    /// Names of the k core axes (z₁ … z_k).
    public var axes: [String]
    public var sets: [PointSet]
    /// The sampler steps of the trajectory sets' frames (nil when nothing moves).
    public var steps: [Int]?
    public var stepLabel: String

    /// - Throws: `ConfigurationError` (`CoreViewer.axes`) for no axes; `TensorError.invalidShape` when sets disagree
    ///   with the axes or the steps.
    public init(title: String, axes: [String], sets: [PointSet], steps: [Int]? = nil, stepLabel: String = "sampler step") throws {
        guard axes.count >= 1 else { throw ConfigurationError(field: "CoreViewer.axes", reason: "CoreViewer: no axes") }
        for s in sets {
            guard s.frames.allSatisfy({ $0.count == s.n * axes.count }) else {
                throw TensorError.invalidShape("CoreViewer: set '\(s.name)' does not have \(axes.count) coordinates per point in every frame")
            }
            guard s.frames.count == 1 || s.frames.count == (steps?.count ?? -1) else {
                throw TensorError.invalidShape("CoreViewer: set '\(s.name)' has \(s.frames.count) frames for \(steps?.count ?? 0) steps")
            }
        }
        self.title = title; self.axes = axes; self.sets = sets; self.steps = steps; self.stepLabel = stepLabel
    }

    /// Core axis names z₁ … z_k.
    public static func axisNames(_ k: Int) -> [String] {
        let sub = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
        return (1...Swift.max(1, k)).map { i in "z" + String(i).map { sub[Int(String($0))!] }.joined() }
    }

    /// Four significant digits are plenty on a 640-pixel canvas and keep the inlined data small.
    static func compact(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == 0 { return "0" }
        var s = String(format: "%.4g", v)
        if s.contains("e") { s = String(format: "%.4e", v) }
        return s
    }

    /// The data as JSON (numbers rounded to four significant digits; '<' escaped so the text can sit in a script tag).
    public var json: String {
        func str(_ s: String) -> String { JSON.string(s).serialized().replacingOccurrences(of: "<", with: "\\u003c") }
        let sets = self.sets.map { s in
            "{\"name\":\(str(s.name)),\"color\":\(str(s.color)),\"n\":\(s.n),\"visible\":\(s.visible),\"frames\":["
                + s.frames.map { "[" + $0.map(CoreViewer.compact).joined(separator: ",") + "]" }.joined(separator: ",") + "]}"
        }.joined(separator: ",")
        let steps = self.steps.map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "null"
        return "{\"title\":\(str(title)),\"axes\":[\(axes.map(str).joined(separator: ","))],\"k\":\(axes.count),\"steps\":\(steps),\"stepLabel\":\(str(stepLabel)),\"sets\":[\(sets)]}"
    }

    /// The viewer's block: a canvas, its controls and the inlined data (the page includes `script` once).
    public func html(id: String) -> String {
        """
        <div class="vst-viewer" id="\(id)">
        <canvas width="640" height="440" aria-label="\(HTMLReport.esc(title)): drag to turn, wheel to zoom"></canvas>
        <div class="vst-controls"></div>
        <script type="application/json" class="vst-data">\(json)</script>
        </div>
        """
    }

    /// The viewer code, inlined once per page. `window.vstSelfTest()` (run automatically when the page's address
    /// ends in `#selftest`) drags and zooms every viewer with synthetic pointer and wheel events, compares the
    /// canvas pixels before and after, and writes the results as JSON into `<pre id="vst-selftest">`.
    public static let script = #"""
    (function () {
      "use strict";
      var viewers = [];
      function el(tag, attrs, text) {
        var e = document.createElement(tag);
        for (var k in attrs) e.setAttribute(k, attrs[k]);
        if (text !== undefined) e.textContent = text;
        return e;
      }
      function Viewer(root) {
        var d = JSON.parse(root.querySelector(".vst-data").textContent);
        var canvas = root.querySelector("canvas"), ctx = canvas.getContext("2d");
        var controls = root.querySelector(".vst-controls");
        var k = d.k, pick = [0, Math.min(1, k - 1), Math.min(2, k - 1)];
        var yaw = -0.6, pitch = 0.35, zoom = 1, frame = d.steps ? d.steps.length - 1 : 0;
        var visible = d.sets.map(function (s) { return s.visible; });
        var self = this;
        // Centre and half-range of each axis over every set and frame, so turning happens about the cloud's centre.
        var lo = [], hi = [];
        for (var a = 0; a < k; a++) { lo.push(Infinity); hi.push(-Infinity); }
        d.sets.forEach(function (s) { s.frames.forEach(function (f) {
          for (var i = 0; i < s.n; i++) for (var a = 0; a < k; a++) {
            var v = f[i * k + a]; if (v === null) continue;
            if (v < lo[a]) lo[a] = v; if (v > hi[a]) hi[a] = v;
          }
        }); });
        function centre(a) { return isFinite(lo[a]) ? (lo[a] + hi[a]) / 2 : 0; }
        function half(a) { return isFinite(lo[a]) && hi[a] > lo[a] ? (hi[a] - lo[a]) / 2 : 1; }
        function rotate(x, y, z) {
          var cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
          var x1 = cy * x + sy * z, z1 = -sy * x + cy * z;
          return [x1, cp * y - sp * z1, sp * y + cp * z1];
        }
        this.draw = function () {
          var w = canvas.width, h = canvas.height, s = Math.min(w, h) * 0.33 * zoom, cx = w / 2, cy = h / 2 + 10;
          ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
          // Axes: a line through the centre along each chosen coordinate, labelled at its positive end.
          ctx.lineWidth = 1; ctx.font = "13px Helvetica, Arial, sans-serif";
          [[1, 0, 0], [0, 1, 0], [0, 0, 1]].forEach(function (u, j) {
            var p = rotate(-u[0], u[1] * -1, -u[2]), q = rotate(u[0], u[1], u[2]);
            ctx.strokeStyle = "#999"; ctx.beginPath();
            ctx.moveTo(cx + p[0] * s, cy - p[1] * s); ctx.lineTo(cx + q[0] * s, cy - q[1] * s); ctx.stroke();
            ctx.fillStyle = "#333"; ctx.fillText(d.axes[pick[j]], cx + q[0] * s * 1.08 - 6, cy - q[1] * s * 1.08 + 4);
          });
          var pts = [];
          d.sets.forEach(function (set, si) {
            if (!visible[si]) return;
            var f = set.frames.length > 1 ? set.frames[Math.min(frame, set.frames.length - 1)] : set.frames[0];
            for (var i = 0; i < set.n; i++) {
              var a = f[i * k + pick[0]], b = f[i * k + pick[1]], c = f[i * k + pick[2]];
              if (a === null || b === null || c === null) continue;
              var r = rotate((a - centre(pick[0])) / half(pick[0]), (b - centre(pick[1])) / half(pick[1]), (c - centre(pick[2])) / half(pick[2]));
              pts.push([r[2], cx + r[0] * s, cy - r[1] * s, si]);
            }
          });
          pts.sort(function (p, q) { return p[0] - q[0]; });
          ctx.globalAlpha = 0.7;
          pts.forEach(function (p) { ctx.fillStyle = d.sets[p[3]].color; ctx.beginPath(); ctx.arc(p[1], p[2], 2.4, 0, 2 * Math.PI); ctx.fill(); });
          ctx.globalAlpha = 1;
          ctx.fillStyle = "#333"; ctx.font = "bold 14px Helvetica, Arial, sans-serif";
          ctx.fillText(d.title, 10, 20);
          ctx.font = "12px Helvetica, Arial, sans-serif"; ctx.fillStyle = "#666";
          ctx.fillText("drag to turn · wheel to zoom" + (d.steps ? " · " + d.stepLabel + " " + d.steps[frame] : ""), 10, h - 10);
        };
        // Controls: three axis pickers, one toggle per set, the step slider, a reset button.
        ["x", "y", "z"].forEach(function (name, j) {
          var label = el("label", {}, name + " "), sel = el("select", { "data-axis": String(j) });
          d.axes.forEach(function (a, i) { var o = el("option", { value: String(i) }, a); if (i === pick[j]) o.selected = true; sel.appendChild(o); });
          sel.addEventListener("change", function () { pick[j] = +sel.value; self.draw(); });
          label.appendChild(sel); controls.appendChild(label);
        });
        d.sets.forEach(function (set, si) {
          var label = el("label", { "class": "vst-set" }), box = el("input", { type: "checkbox" });
          box.checked = visible[si];
          box.addEventListener("change", function () { visible[si] = box.checked; self.draw(); });
          var swatch = el("span", { "class": "vst-swatch", style: "background:" + set.color });
          label.appendChild(box); label.appendChild(swatch); label.appendChild(document.createTextNode(set.name));
          controls.appendChild(label);
        });
        if (d.steps) {
          var sl = el("label", { "class": "vst-step" }, d.stepLabel + " "), range = el("input", { type: "range", min: "0", max: String(d.steps.length - 1), value: String(frame) });
          var out = el("output", {}, String(d.steps[frame]) + " / " + d.steps[d.steps.length - 1]);
          range.addEventListener("input", function () { frame = +range.value; out.textContent = d.steps[frame] + " / " + d.steps[d.steps.length - 1]; self.draw(); });
          sl.appendChild(range); sl.appendChild(out); controls.appendChild(sl);
        }
        var reset = el("button", { type: "button" }, "reset view");
        reset.addEventListener("click", function () { yaw = -0.6; pitch = 0.35; zoom = 1; self.draw(); });
        controls.appendChild(reset);
        // Turning and zooming.
        var drag = null;
        canvas.style.touchAction = "none"; canvas.style.cursor = "grab";
        canvas.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; if (canvas.setPointerCapture && e.pointerId !== undefined) { try { canvas.setPointerCapture(e.pointerId); } catch (x) {} } });
        canvas.addEventListener("pointermove", function (e) {
          if (!drag) return;
          yaw += (e.clientX - drag[0]) * 0.01;
          pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - drag[1]) * 0.01));
          drag = [e.clientX, e.clientY]; self.draw();
        });
        function end() { drag = null; }
        canvas.addEventListener("pointerup", end); canvas.addEventListener("pointercancel", end);
        canvas.addEventListener("wheel", function (e) {
          e.preventDefault();
          zoom = Math.max(0.2, Math.min(20, zoom * Math.exp(-e.deltaY * 0.001))); self.draw();
        }, { passive: false });
        this.canvas = canvas; this.root = root;
        this.state = function () { return { yaw: yaw, pitch: pitch, zoom: zoom, frame: frame }; };
        // The static figure stays for printing and for readers without scripts.
        var fallback = root.parentNode && root.parentNode.querySelector(".vst-static");
        if (fallback) fallback.classList.add("vst-print-only");
        this.draw();
      }
      function pixels(c) { return c.getContext("2d").getImageData(0, 0, c.width, c.height).data; }
      function differs(a, b) { var n = 0; for (var i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++; return n; }
      window.vstSelfTest = function () {
        var results = viewers.map(function (v) {
          var r = v.canvas.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
          var before = pixels(v.canvas);
          function ev(type, dx, dy) { v.canvas.dispatchEvent(new PointerEvent(type, { bubbles: true, clientX: x + dx, clientY: y + dy, pointerId: 1, pointerType: "mouse", buttons: 1 })); }
          ev("pointerdown", 0, 0); ev("pointermove", 40, 10); ev("pointermove", 80, 20); ev("pointerup", 80, 20);
          var turned = pixels(v.canvas);
          v.canvas.dispatchEvent(new WheelEvent("wheel", { bubbles: true, cancelable: true, deltaY: -300, clientX: x, clientY: y }));
          var zoomed = pixels(v.canvas);
          var inked = 0; for (var i = 0; i < before.length; i += 4) if (before[i] < 200) inked++;
          return { id: v.root.id, inked: inked, changedByDrag: differs(before, turned), changedByWheel: differs(turned, zoomed), state: v.state() };
        });
        var sections = Array.prototype.map.call(document.querySelectorAll("section"), function (s) {
          var r = s.getBoundingClientRect(), h = s.querySelector("h2");
          return { heading: h ? h.textContent : "", top: r.top + window.scrollY, height: r.height };
        });
        var images = Array.prototype.map.call(document.querySelectorAll("img"), function (i) { return { src: i.getAttribute("src"), loaded: i.complete && i.naturalWidth > 0 }; });
        var out = { viewers: results, sections: sections, images: images, pageHeight: document.documentElement.scrollHeight };
        var pre = document.getElementById("vst-selftest") || document.body.appendChild(el("pre", { id: "vst-selftest" }));
        pre.textContent = JSON.stringify(out);
        return out;
      };
      function start() {
        Array.prototype.forEach.call(document.querySelectorAll(".vst-viewer"), function (root) {
          try { viewers.push(new Viewer(root)); } catch (e) { root.appendChild(el("p", { "class": "sub" }, "viewer failed: " + e)); }
        });
        if (location.hash === "#selftest") window.vstSelfTest();
      }
      if (document.readyState === "complete") start(); else window.addEventListener("load", start);
    })();
    """#
}
