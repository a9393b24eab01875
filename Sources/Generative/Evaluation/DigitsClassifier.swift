import Foundation
import Linear
import Neural

/// The small digits classifier behind the feature-space Fréchet distance and the class coverage of docs/method.md §8b (the
/// digits analogue of the Inception network of FID and of the Inception score).
///
/// An MLP on the 64 pixels in model units ([−1, 1], `Digits.scaling`): 64 → 128 → 64 → 10 with SiLU after each
/// hidden layer. `features` is the 64-D output of the second hidden layer (after its activation), `logits` the
/// 10 class scores. Parameters: `body.layers.0.weight [128, 64]`, `body.layers.0.bias`, `body.layers.1.weight
/// [64, 128]`, `body.layers.1.bias`, `head.weight [10, 64]`, `head.bias` (17 226 scalars).
///
/// The shipped weights (`data/classifier/digits-classifier.safetensors`) come from `train(_:)` with the default
/// `DigitsClassifierTraining` (seed 0, split seed 0, 20 % held out); `vst train-classifier` regenerates them.
/// Forward passes run in Float under `noGrad`, in batches of 4 096 rows: O(n · 17 000) flops.
public final class DigitsClassifier: ModuleBase, Module {
    public typealias Scalar = Float
    /// Pixels in, features, classes out.
    public static let inputSize = Digits.dimension
    public static let hiddenSize = 128
    public static let featureSize = 64
    public static let classCount = 10
    /// File name of the shipped weights inside `data/classifier/`.
    public static let fileName = "digits-classifier.safetensors"

    /// 64 → 128 → 64 with SiLU after both layers: the feature extractor.
    public let body: MLP<Float>
    /// 64 → 10: the class scores.
    public let head: Dense<Float>

    /// A freshly initialised classifier (PyTorch default initialisation from `seed`).
    public init(seed: UInt64 = 0) {
        var g = RandomGenerator(seed: seed)
        body = MLP(sizes: [Self.inputSize, Self.hiddenSize, Self.featureSize], activation: .silu, activateLast: true, using: &g)
        head = Dense(Self.featureSize, Self.classCount, using: &g)
    }

    public var children: [(String, any Module<Float>)] { [("body", body), ("head", head)] }

    /// Class scores [n, 10] of pixels [n, 64] in model units (differentiable; used in training).
    public func callAsFunction(_ x: Variable<Float>) throws -> Variable<Float> { try head(body(x)) }

    // MARK: Loading

    /// The shipped weights: `$SUBSTRATE_DATA/classifier/…` when that variable is set, else `data/classifier/…` in
    /// the current directory or the nearest parent that has it, else beside the running executable's package
    /// (the places `Digits.defaultPath()` searches).
    /// - Throws: `TensorError.file` listing the places searched.
    public static func defaultPath() throws -> String {
        try BundledData.path("classifier/\(fileName)", hint: "set SUBSTRATE_DATA to the data directory or run `vst train-classifier`")
    }

    /// The classifier with the weights of `path` (default: the shipped file), in evaluation mode, and the file's
    /// metadata (training settings and the held-out accuracy).
    /// - Throws: file errors, or `ModelFileError` when the names or shapes do not match.
    public static func load(path: String? = nil) throws -> (classifier: DigitsClassifier, metadata: [String: String]) {
        let file = try path ?? defaultPath()
        let c = DigitsClassifier()
        let meta = try c.load(from: file)
        c.eval()
        return (c, meta)
    }

    // MARK: Inference

    static func checkInput<S: BLASScalar>(_ x: Tensor<S>) throws {
        guard x.rank == 2, x.shape[1] == inputSize else {
            throw TensorError.invalidShape("DigitsClassifier: expected [n, \(inputSize)] pixels in model units, got shape \(x.shape)")
        }
    }

    /// Runs `body` on row blocks of at most `batch` rows without recording gradients, and stacks the results.
    func blocks<S: BLASScalar>(_ x: Tensor<S>, batch: Int = 4096, _ body: (Variable<Float>) throws -> Variable<Float>) throws -> Tensor<Float> {
        try Self.checkInput(x)
        let n = x.shape[0]
        if n == 0 { return try body(Variable(Tensor<Float>.zeros([0, Self.inputSize]))).value }
        var parts: [Tensor<Float>] = []
        var start = 0
        while start < n {
            let end = Swift.min(n, start + batch)
            let xb: Tensor<Float> = try x.slice(start..<end).cast()
            parts.append(try noGrad { try body(Variable(xb)).value })
            start = end
        }
        return parts.count == 1 ? parts[0] : try Tensor.concatenate(parts)
    }

    /// Penultimate-layer features [n, 64] of pixels [n, 64] in model units.
    public func features<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Float> {
        try blocks(x) { try body($0) }
    }

    /// Class scores [n, 10] of pixels [n, 64] in model units.
    public func logits<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Float> {
        try blocks(x) { try self($0) }
    }

    /// Class probabilities [n, 10] (softmax of the logits).
    public func probabilities<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Float> {
        try logits(x).softmax(axis: 1)
    }

    /// The most probable class of every row.
    public func predict<S: BLASScalar>(_ x: Tensor<S>) throws -> [Int] {
        try logits(x).argmax(axis: 1)
    }

    /// Fraction of rows whose predicted class is the label.
    public func accuracy<S: BLASScalar>(_ x: Tensor<S>, labels: [Int]) throws -> Double {
        guard labels.count == x.shape.first else {
            throw TensorError.invalidShape("DigitsClassifier.accuracy: \(x.shape.first ?? 0) rows but \(labels.count) labels")
        }
        guard !labels.isEmpty else { return .nan }
        let p = try predict(x)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    // MARK: Training

    /// Trains a fresh classifier on the training part of the digits (`settings.heldOutFraction` held out with
    /// `settings.splitSeed`) and reports its accuracy on both parts. Deterministic: the same settings give the same
    /// weights (AdamW, cosine learning rate, seeded mini-batches and pixel-shift augmentation).
    public static func train(_ digits: LabeledData<Float>, settings s: DigitsClassifierTraining = DigitsClassifierTraining(),
                             progress: ((_ epoch: Int, _ epochs: Int, _ loss: Double) -> Void)? = nil) throws -> (classifier: DigitsClassifier, report: DigitsClassifierReport) {
        try checkInput(digits.data)
        guard let labels = digits.labels, labels.count == digits.count else {
            throw TensorError.invalidShape("DigitsClassifier.train: the data needs one label per row")
        }
        guard labels.allSatisfy({ (0..<classCount).contains($0) }) else {
            throw ConfigurationError(field: "DigitsClassifier.train(_:)", reason: "DigitsClassifier.train: labels must be 0…\(classCount - 1)")
        }
        try ConfigurationError.check("DigitsClassifierTraining", ["epochs": s.epochs >= 1, "batchSize": s.batchSize >= 1, "learningRate": s.learningRate > 0],
                                     reason: "DigitsClassifier.train: needs epochs ≥ 1, batch size ≥ 1 and a positive learning rate")
        let start = Date()
        let (trainSet, heldOut) = try digits.split(heldOutFraction: s.heldOutFraction, seed: s.splitSeed)
        let trainLabels = trainSet.labels!
        let c = DigitsClassifier(seed: s.seed)
        c.train()
        let opt = AdamW(parameters: c.parameters, learningRate: s.learningRate, weightDecay: s.weightDecay)
        let batches = MiniBatches(count: trainSet.count, batchSize: s.batchSize, shuffle: true, seed: s.seed)
        let total = s.epochs * batches.batchesPerEpoch
        let schedule = LearningRateSchedule.cosine(peak: s.learningRate, totalSteps: total, warmupSteps: Swift.min(100, total / 10))
        var g = RandomGenerator(seed: s.seed &+ 0xA5A5)
        var step = 0
        var lastLoss = Double.nan
        for epoch in 0..<s.epochs {
            var sum = 0.0, rows = 0
            for idx in batches.batches(epoch: epoch) {
                var xb = try trainSet.data.batch(idx)
                if s.shiftAugmentation { xb = shifted(xb, using: &g) }
                let yb = idx.map { trainLabels[$0] }
                opt.learningRate = schedule.learningRate(at: step)
                opt.zeroGrad()
                let loss = try Loss.crossEntropy(c(Variable(xb)), labels: yb)
                try loss.backward()
                try opt.step()
                sum += Double(loss.scalar) * Double(idx.count); rows += idx.count
                step += 1
            }
            lastLoss = sum / Double(Swift.max(1, rows))
            progress?(epoch + 1, s.epochs, lastLoss)
        }
        c.eval()
        let report = DigitsClassifierReport(trainAccuracy: try c.accuracy(trainSet.data, labels: trainLabels),
                                            heldOutAccuracy: try c.accuracy(heldOut.data, labels: heldOut.labels!),
                                            trainCount: trainSet.count, heldOutCount: heldOut.count, steps: step,
                                            finalLoss: lastLoss, seconds: Date().timeIntervalSince(start), settings: s)
        return (c, report)
    }

    /// Every image moved by a random whole-pixel offset in {−1, 0, 1}² (per image, from `g`); pixels moved in from
    /// outside are background (−1 in model units).
    static func shifted(_ x: Tensor<Float>, using g: inout RandomGenerator) -> Tensor<Float> {
        let n = x.shape[0]
        var out = [Float](repeating: -1, count: n * 64)
        let src = x.scalars
        for r in 0..<n {
            let dy = g.nextInt(below: 3) - 1, dx = g.nextInt(below: 3) - 1
            for i in 0..<8 {
                let si = i - dy
                guard si >= 0, si < 8 else { continue }
                for j in 0..<8 {
                    let sj = j - dx
                    guard sj >= 0, sj < 8 else { continue }
                    out[r * 64 + i * 8 + j] = src[r * 64 + si * 8 + sj]
                }
            }
        }
        return Tensor(unsafeUninitializedShape: [n, 64]) { p, count in for i in 0..<count { p[i] = out[i] } }
    }

    /// Saves the weights with the training settings and accuracies as metadata (atomic; refuses to replace a file
    /// unless `overwrite`).
    public func save(to path: String, report: DigitsClassifierReport, overwrite: Bool = false) throws {
        try save(to: path, metadata: report.metadata, overwrite: overwrite)
    }
}

/// Settings of `DigitsClassifier.train`; the defaults made the shipped weights.
public struct DigitsClassifierTraining: Sendable, Equatable {
    /// Passes over the training part.
    public var epochs = 200
    public var batchSize = 64
    /// Peak AdamW learning rate (linear warm-up, then cosine decay to 0).
    public var learningRate = 3e-3
    /// AdamW's decoupled weight decay.
    public var weightDecay = 1e-4
    /// Fraction of the 1 797 digits held out for the stated accuracy, and the seed of that split.
    public var heldOutFraction = 0.2
    public var splitSeed: UInt64 = 0
    /// Seed of the initialisation, the mini-batches and the augmentation.
    public var seed: UInt64 = 0
    /// Random ±1-pixel shifts of the training images.
    public var shiftAugmentation = true
    public init() {}
}

/// What `DigitsClassifier.train` measured.
public struct DigitsClassifierReport: Sendable {
    public var trainAccuracy: Double
    public var heldOutAccuracy: Double
    public var trainCount: Int
    public var heldOutCount: Int
    public var steps: Int
    public var finalLoss: Double
    public var seconds: Double
    public var settings: DigitsClassifierTraining

    /// String metadata stored in the weights file.
    public var metadata: [String: String] {
        [
            "model": "digits-classifier", "architecture": "mlp 64-128-64-10 silu",
            "train_accuracy": String(format: "%.6f", trainAccuracy), "held_out_accuracy": String(format: "%.6f", heldOutAccuracy),
            "train_count": "\(trainCount)", "held_out_count": "\(heldOutCount)",
            "held_out_fraction": "\(settings.heldOutFraction)", "split_seed": "\(settings.splitSeed)", "seed": "\(settings.seed)",
            "epochs": "\(settings.epochs)", "batch_size": "\(settings.batchSize)", "learning_rate": "\(settings.learningRate)",
            "weight_decay": "\(settings.weightDecay)", "shift_augmentation": "\(settings.shiftAugmentation)",
            "trained_by": "vst train-classifier",
        ]
    }
}
