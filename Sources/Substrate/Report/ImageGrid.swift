import Foundation
import Linear

extension SVGPlot {
    /// A grid of small grayscale images (e.g. 8×8 digits), one row of `images` per image, drawn as SVG rectangles
    /// (no raster files needed). Pixel values are mapped linearly from [`low`, `high`] to white…black (clamped),
    /// so ink is dark as on paper; `side` is the image side (the row length must be side²).
    ///
    /// - Parameters:
    ///   - images: [n, side·side], row-major pixels per image.
    ///   - columns: images per row of the grid.
    ///   - captions: optional caption under each image (e.g. a predicted class).
    public static func imageGrid(title: String, images: Tensor<Double>, side: Int, columns: Int = 10, low: Double = -1, high: Double = 1,
                                 captions: [String]? = nil, maxImages: Int = 100) throws -> String {
        guard images.rank == 2, side >= 1, images.shape[1] == side * side else {
            throw TensorError.invalidShape("imageGrid: expected images [n, \(side)×\(side)], got \(images.shape)")
        }
        guard high > low, columns >= 1 else { throw ConfigurationError(field: "SVGPlot.imageGrid(columns:low:high:)", reason: "imageGrid: need high > low and columns ≥ 1") }
        let n = Swift.min(images.shape[0], maxImages)
        let pixel = 5.0, gap = 6.0, caption = captions == nil ? 0.0 : 13.0
        let cell = Double(side) * pixel
        let rows = (n + columns - 1) / columns
        let w = Double(columns) * (cell + gap) + gap, h = 30 + Double(rows) * (cell + gap + caption) + gap
        var body = ""
        images.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let ox = gap + Double(i % columns) * (cell + gap), oy = 30 + Double(i / columns) * (cell + gap + caption)
                body += "<g transform=\"translate(\(ox) \(oy))\"><rect width=\"\(cell)\" height=\"\(cell)\" fill=\"white\" stroke=\"#ccc\"/>"
                for r in 0..<side {
                    for c in 0..<side {
                        let v = p[i * side * side + r * side + c]
                        let t = v.isFinite ? Swift.min(1, Swift.max(0, (v - low) / (high - low))) : 0
                        let level = Int((255 * (1 - t)).rounded())
                        if level >= 250 { continue }       // white pixels are the background
                        body += "<rect x=\"\(Double(c) * pixel)\" y=\"\(Double(r) * pixel)\" width=\"\(pixel)\" height=\"\(pixel)\" fill=\"rgb(\(level),\(level),\(level))\"/>"
                    }
                }
                if let captions, i < captions.count {
                    body += "<text x=\"\(cell / 2)\" y=\"\(cell + 11)\" text-anchor=\"middle\" font-size=\"10\">\(esc(captions[i]))</text>"
                }
                body += "</g>\n"
            }
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(w)) \(Int(h))" width="\(Int(w))" height="\(Int(h))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(w / 2)" y="20" text-anchor="middle" font-size="14" font-weight="bold">\(esc(title))</text>
        \(body)
        </svg>
        """
    }
}
