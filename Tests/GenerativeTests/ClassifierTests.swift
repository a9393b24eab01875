import Foundation
import Generative
import Linear
import Neural
import Substrate
import Testing
import TestSupport

/// The shipped digits classifier (data/classifier/) and the class statistics behind `vst evaluate --reference digits`.
@Suite struct ClassifierTests {
    static let weights = dataPath("classifier/\(DigitsClassifier.fileName)")
    static let digitsPath = dataPath("digits.csv")
    /// The accuracy stated in data/classifier/README.md (353 / 359 held-out digits).
    static let statedHeldOutAccuracy = 353.0 / 359.0

    static func heldOut() throws -> (train: LabeledData<Float>, heldOut: LabeledData<Float>) {
        let s = DigitsClassifierTraining()
        return try Digits.load(path: digitsPath, as: Float.self).split(heldOutFraction: s.heldOutFraction, seed: s.splitSeed)
    }

    @Test func shippedWeightsReachTheStatedAccuracy() throws {
        let (net, meta) = try DigitsClassifier.load(path: Self.weights)
        let (train, held) = try Self.heldOut()
        #expect(held.count == 359 && train.count == 1438)
        let acc = try net.accuracy(held.data, labels: held.labels!)
        #expect(acc >= 0.95)
        #expect(abs(acc - Self.statedHeldOutAccuracy) < 1e-9, "held-out accuracy \(acc)")
        #expect(abs((Double(meta["held_out_accuracy"] ?? "") ?? 0) - acc) < 1e-5)
        #expect(try net.accuracy(train.data, labels: train.labels!) >= 0.99)
        #expect(net.parameterCount == 17_226)
    }

    @Test func retrainingGivesTheShippedWeights() throws {
        let digits = try Digits.load(path: Self.digitsPath, as: Float.self)
        let (net, report) = try DigitsClassifier.train(digits)
        #expect(abs(report.heldOutAccuracy - Self.statedHeldOutAccuracy) < 1e-9)
        let (shipped, _) = try DigitsClassifier.load(path: Self.weights)
        let a = net.stateDict(), b = shipped.stateDict()
        #expect(Set(a.keys) == Set(b.keys))
        var worst = 0.0
        for (k, v) in a { worst = max(worst, maxDifference(v, b[k]!)) }
        #expect(worst < 1e-4, "largest weight difference \(worst)")
    }

    @Test func featuresAndPredictionsHaveTheRightShapes() throws {
        let (net, _) = try DigitsClassifier.load(path: Self.weights)
        let x = try Self.heldOut().heldOut.data.slice(0..<37)
        #expect(try net.features(x).shape == [37, 64])
        #expect(try net.logits(x).shape == [37, 10])
        let p = try net.probabilities(x)
        #expect(p.shape == [37, 10])
        #expect(try maxDifference(p.sum(axis: 1), Tensor<Float>(repeating: 1, shape: [37])) < 1e-5)
        let s = try net.summarize(x.cast(to: Double.self))
        #expect(s.features.shape == [37, 64] && s.predictions.count == 37 && s.confidences.count == 37)
        #expect(s.predictions == (try net.predict(x)))
        // Batching does not change the result: a 5 000-row input runs in two blocks.
        let big = try Tensor.concatenate(Array(repeating: x, count: 136)).slice(0..<5000)
        let fb = try net.features(big)
        #expect(maxDifference(try fb.slice(0..<37), try net.features(x)) < 1e-5)
        #expect(maxDifference(try fb.slice(4107..<4144), try net.features(x)) < 1e-5)
        #expect(throws: TensorError.self) { try net.features(Tensor<Float>.zeros([3, 63])) }
    }

    @Test func realDigitsCoverEveryClass() throws {
        let (net, _) = try DigitsClassifier.load(path: Self.weights)
        let all = try Digits.load(path: Self.digitsPath, as: Float.self)
        let c = try net.summarize(all.data).classes
        #expect(c.count == 1797)
        #expect(c.coverage > 0.99, "class coverage \(c.coverage)")
        #expect(c.classFraction == 1)
        #expect(c.klFromUniform < 0.01 && c.tvFromUniform < 0.05)
        #expect(c.meanConfidence > 0.95)
    }

    @Test func classCoverageFormulas() throws {
        let uniform = try ClassCoverage(predictions: Array(0..<10) + Array(0..<10), confidences: Array(repeating: 0.5, count: 20))
        #expect(abs(uniform.coverage - 1) < 1e-12 && uniform.klFromUniform < 1e-12 && uniform.tvFromUniform < 1e-12)
        #expect(uniform.classFraction == 1 && abs(uniform.meanConfidence - 0.5) < 1e-12)
        let collapsed = try ClassCoverage(predictions: Array(repeating: 3, count: 50), confidences: Array(repeating: 1, count: 50))
        #expect(collapsed.coverage == 0 && collapsed.classFraction == 0.1 && abs(collapsed.tvFromUniform - 0.9) < 1e-12)
        #expect(abs(collapsed.klFromUniform - log(10.0)) < 1e-12)
        // Two classes, equally often: H = log 2.
        let two = try ClassCoverage(predictions: [0, 1, 0, 1], confidences: [1, 1, 1, 1])
        #expect(abs(two.coverage - log(2.0) / log(10.0)) < 1e-12 && two.histogram == [2, 2, 0, 0, 0, 0, 0, 0, 0, 0])
        // A class needs 10 % of a uniform share: 1 stray prediction among 1 000 does not count.
        let stray = try ClassCoverage(predictions: Array(repeating: 0, count: 999) + [7], confidences: Array(repeating: 1, count: 1000))
        #expect(stray.classFraction == 0.1)
        #expect(throws: ConfigurationError.self) { try ClassCoverage(predictions: [10], confidences: [1]) }
        #expect(throws: TensorError.self) { try ClassCoverage(predictions: [1, 2], confidences: [1]) }
    }

    @Test func featureFrechetDistanceSeparatesRealFromNoise() throws {
        let (net, _) = try DigitsClassifier.load(path: Self.weights)
        let (train, held) = try Self.heldOut()
        let fTrain = try net.summarize(train.data).features, fHeld = try net.summarize(held.data).features
        let realVsReal = try Drift.frechetDistance(fTrain, fHeld)
        var g = RandomGenerator(seed: 3)
        let noise = Tensor<Double>.uniform([359, 64], low: -1, high: 1, using: &g)
        let fNoise = try net.summarize(noise)
        let realVsNoise = try Drift.frechetDistance(fTrain, fNoise.features)
        // A Gaussian with the digits' mean and covariance: closer than noise, still far from real digits (measured:
        // train vs held out 6.5, vs the Gaussian 23, vs uniform noise in [−1, 1] far above).
        let gauss = try SampleQuality.gaussianBaseline(real: train.data.cast(to: Double.self), count: 359, seed: 5)
        let realVsGaussian = try Drift.frechetDistance(fTrain, net.summarize(gauss).features)
        #expect(realVsReal < 10, "real vs held-out real \(realVsReal)")
        #expect(realVsGaussian > 3 * realVsReal, "Gaussian \(realVsGaussian) vs real \(realVsReal)")
        #expect(realVsNoise > 20 * realVsReal, "noise \(realVsNoise) vs real \(realVsReal)")
        #expect(fNoise.classes.meanConfidence < 0.95)
    }
}
