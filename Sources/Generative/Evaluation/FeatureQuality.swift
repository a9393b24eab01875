import Foundation
import Linear
import Neural

/// The class statistics of docs/method.md §8b for digits: how the `DigitsClassifier`'s predictions on a set of samples
/// spread over the 10 classes, and how sure it is.
///
/// With p the histogram of predicted labels divided by n (p log p = 0 at p = 0, natural logarithms):
/// - `coverage` = H(p)/log 10, H(p) = −Σ p log p: 1 when the 10 classes are predicted equally often, 0 when all
///   samples fall in one class (docs/method.md §8b's class coverage, the digits analogue of the Inception score);
/// - `classFraction`: the fraction of the 10 classes that receive at least `minimumShare` of a uniform share
///   (n/10) of the predictions (default 10 %, so a few stray predictions do not count as covering a class);
/// - `klFromUniform` = KL(p ‖ uniform) = log 10 − H(p) (nats), `tvFromUniform` = ½ Σ |p − 1/10|;
/// - `meanConfidence`: the mean over samples of the largest class probability.
/// O(n) from the predictions and probabilities.
public struct ClassCoverage: Sendable, Equatable {
    /// Predictions per class (10 counts).
    public var histogram: [Int]
    public var coverage: Double
    public var classFraction: Double
    public var klFromUniform: Double
    public var tvFromUniform: Double
    public var meanConfidence: Double
    /// The share of a uniform class count a class needs to count in `classFraction`.
    public var minimumShare: Double

    /// Samples counted.
    public var count: Int { histogram.reduce(0, +) }

    /// The statistics of predicted labels (each in 0 ..< `classes`) and their top probabilities.
    /// - Throws: `ConfigurationError` (`ClassCoverage.classes`, `.predictions`) for fewer than 2 classes or a label
    ///   outside 0 ..< `classes`; `TensorError.invalidShape` unless there are as many confidences as labels.
    public init(predictions: [Int], confidences: [Double], classes: Int = DigitsClassifier.classCount, minimumShare: Double = 0.1) throws {
        guard classes >= 2 else { throw ConfigurationError(field: "ClassCoverage.classes", reason: "ClassCoverage: needs at least 2 classes, got \(classes)") }
        guard confidences.count == predictions.count else {
            throw TensorError.invalidShape("ClassCoverage: \(predictions.count) predictions but \(confidences.count) confidences")
        }
        var h = [Int](repeating: 0, count: classes)
        for p in predictions {
            guard (0..<classes).contains(p) else { throw ConfigurationError(field: "ClassCoverage.predictions", reason: "ClassCoverage: label \(p) outside 0…\(classes - 1)") }
            h[p] += 1
        }
        histogram = h
        self.minimumShare = minimumShare
        let n = Double(predictions.count)
        let logK = Foundation.log(Double(classes))
        guard n > 0 else {
            coverage = .nan; classFraction = .nan; klFromUniform = .nan; tvFromUniform = .nan; meanConfidence = .nan
            return
        }
        var entropy = 0.0, tv = 0.0, present = 0
        for c in h {
            let p = Double(c) / n
            if p > 0 { entropy -= p * Foundation.log(p) }
            tv += Swift.abs(p - 1 / Double(classes))
            if Double(c) >= minimumShare * n / Double(classes) && c > 0 { present += 1 }
        }
        coverage = entropy / logK
        klFromUniform = Swift.max(0, logK - entropy)
        tvFromUniform = tv / 2
        classFraction = Double(present) / Double(classes)
        meanConfidence = confidences.reduce(0, +) / n
    }
}

/// What the digits classifier sees in a set of samples: its penultimate-layer features (for the feature-space
/// Fréchet distance, computed by the analysis layer) and its class statistics.
public struct DigitsFeatureSummary: Sendable {
    /// [n, 64] penultimate-layer features, in Double for the covariance computations.
    public var features: Tensor<Double>
    /// Predicted class per sample.
    public var predictions: [Int]
    /// Largest class probability per sample.
    public var confidences: [Double]
    /// The class statistics of the predictions.
    public var classes: ClassCoverage
}

extension DigitsClassifier {
    /// Features, predictions and class statistics of pixels [n, 64] in model units ([−1, 1]); samples in pixel
    /// intensities 0 … 16 go through `Digits.scaling.apply` first. One forward pass per 4 096 rows.
    public func summarize<S: BLASScalar>(_ x: Tensor<S>) throws -> DigitsFeatureSummary {
        let f = try features(x)
        let logits = try noGrad { try head(Variable(f)).value }
        let probs = try logits.softmax(axis: 1)
        let predictions = try logits.argmax(axis: 1)
        let k = DigitsClassifier.classCount
        var confidences = [Double](repeating: 0, count: predictions.count)
        probs.withUnsafeBufferPointer { p in
            for i in 0..<predictions.count { confidences[i] = Double(p[i * k + predictions[i]]) }
        }
        return DigitsFeatureSummary(features: f.cast(), predictions: predictions, confidences: confidences,
                                    classes: try ClassCoverage(predictions: predictions, confidences: confidences))
    }
}
