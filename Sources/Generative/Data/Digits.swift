import Foundation
import Linear

/// Data in model units, with the labels when it has them and the scaling from its original units.
public struct LabeledData<S: BLASScalar>: Sendable {
    /// [n, D] samples in model units.
    public var data: Tensor<S>
    /// One integer label per row, when the data has labels.
    public var labels: [Int]?
    /// The map from original units to model units (`scaling.invert` takes samples back).
    public var scaling: AffineScaling

    public init(data: Tensor<S>, labels: [Int]? = nil, scaling: AffineScaling = .identity) {
        self.data = data; self.labels = labels; self.scaling = scaling
    }

    /// Number of samples.
    public var count: Int { data.shape.first ?? 0 }
    /// Features per sample.
    public var dimension: Int { data.rank >= 2 ? data.shape[1] : 1 }

    /// The rows at `indices`, with their labels.
    public func subset(_ indices: [Int]) throws -> LabeledData<S> {
        LabeledData(data: try data.gather(rows: indices), labels: labels.map { l in indices.map { l[$0] } }, scaling: scaling)
    }
}

/// The bundled UCI 8×8 handwritten digits (`data/digits.csv`, CC BY 4.0): 1 797 images of 64 pixels with
/// intensities 0 … 16, each followed by its label 0 … 9.
///
/// In model units every pixel is scaled to [−1, 1]: y = x/8 − 1, inverse x = 8(y + 1).
public enum Digits {
    /// Number of images.
    public static let count = 1797
    /// Pixels per image (8×8).
    public static let dimension = 64
    /// The largest pixel intensity.
    public static let maxIntensity = 16.0
    /// Pixel intensities 0 … 16 → [−1, 1].
    public static let scaling = AffineScaling(validScale: [2 / maxIntensity], shift: [-1])

    /// The file name looked for.
    public static let fileName = "digits.csv"

    /// Where `digits.csv` is (`BundledData.path`): `$SUBSTRATE_DATA/digits.csv` when that variable is set, else `data/digits.csv` in the
    /// current directory or the nearest parent that has one, else beside the running executable's package.
    /// - Throws: `TensorError.file` listing the places searched.
    public static func defaultPath() throws -> String {
        try BundledData.path(fileName)
    }

    /// The digits scaled to [−1, 1], with labels, from `path` (default: `defaultPath()`).
    /// - Throws: `TensorError.file` when the file is missing or is not 65 numeric columns with pixels in 0 … 16.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func load<S: BLASScalar>(path: String? = nil, as _: S.Type = S.self) throws -> LabeledData<S> {
        let file = try path ?? defaultPath()
        let table = try CSV.read(file, labelColumn: -1)
        guard table.data.rank == 2, table.data.shape[1] == dimension, let labels = table.labels else {
            throw TensorError.file(path: file, message: "expected \(dimension) pixel columns and a label column, got data of shape \(table.data.shape)")
        }
        guard table.data.min() >= 0, table.data.max() <= maxIntensity else {
            throw TensorError.file(path: file, message: "pixel intensities must be in 0…\(Int(maxIntensity)), found \(table.data.min()) … \(table.data.max())")
        }
        let scaled: Tensor<Double> = try scaling.apply(table.data)
        return LabeledData(data: scaled.cast(to: S.self), labels: labels, scaling: scaling)
    }
}
