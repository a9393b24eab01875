import ArgumentParser
import Foundation
import Generative
import Linear
import Substrate

/// `vst evaluate` (docs/method.md §8b): parses, calls `SampleEvaluation` (VSTCore), prints. `vst train-classifier`.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Sample quality of generated vs held-out real samples (MMD², KID, precision/recall, density/coverage, FD) beside a Gaussian baseline.",
        discussion: """
        The real samples are a file (second argument) or a bundled data set (--reference \(SampleEvaluation.referenceNames)).

        A toy reference is drawn fresh: --count samples (default 2000) from seed --reference-seed (default 1000003, so \
        they are not the samples `vst train --seed 0` trained on), lifted to --dim D (default: the samples' D) by the \
        same fixed embedding as `vst train --dim`. The digits reference is the 1 797 bundled digits (or a seeded \
        subset of --count) in pixel intensities 0…16, the units `vst sample` returns; pass --model-units for samples \
        in [−1, 1].

        For digits the small shipped classifier (data/classifier/) adds feature_frechet_distance (Fréchet distance of \
        its penultimate-layer features), class_coverage (entropy of the predicted labels / log 10), class_fraction, \
        class_kl_uniform, class_tv_uniform, classifier_confidence and class_histogram, for the model and the baseline; \
        beats_baseline then needs a higher precision and a lower feature-space FD than the baseline, and an MMD² that at \
        least ties it: at most the baseline's plus 10 % of its magnitude (the tie rule; toys and files need a strictly \
        lower MMD², docs/method.md §8b).

        Examples:
          vst evaluate samples.npy heldout.npy --json
          vst evaluate samples.npy --reference digits
          vst evaluate samples.npy --reference moons --dim 64
        """)

    @Argument(help: "Generated samples (n×D).") var generated: String
    @Argument(help: "Held-out real samples (m×D); or use --reference.") var real: String?
    @Option(help: ArgumentHelp("Bundled real data instead of a file: \(SampleEvaluation.referenceNames) (or a .npy / .csv path).", valueName: "name"))
    var reference: String?
    @Option(help: "Dimension a toy reference is lifted to (default: the generated samples' D).") var dim: Int?
    @Option(help: "Reference rows: toys draw this many (default 2000); digits take a seeded subset (default all 1797).") var count: Int?
    @Option(name: .customLong("reference-seed"), help: "Seed of a toy reference's samples (and of a digits subset).") var referenceSeed: UInt64 = 1_000_003
    @Flag(name: .customLong("model-units"), help: "Digits samples are in model units [−1, 1] instead of pixel intensities 0…16.") var modelUnits = false
    @Option(help: "Digits classifier weights (default: the shipped data/classifier/digits-classifier.safetensors).") var classifier: String?
    @Option(help: "Tensor name inside .safetensors inputs.") var key: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if real != nil && reference != nil { throw ValidationError("give the real samples either as a second file or with --reference, not both") }
        if real == nil && reference == nil { throw ValidationError("missing the real samples: a second file or --reference \(SampleEvaluation.referenceNames.replacingOccurrences(of: ", ", with: "|"))") }
        if let c = count, c < 6 { throw ValidationError("--count must be at least 6, got \(c)") }
    }

    func run() throws {
        var job = SampleEvaluation(generated: generated, real: real, reference: reference)
        job.dim = dim; job.count = count; job.referenceSeed = referenceSeed; job.modelUnits = modelUnits
        job.classifier = classifier; job.key = key
        job.seed = output.seed; job.report = output.report; job.force = output.force
        Outputs.emit(try job.run(), options: output)
    }
}

/// `vst train-classifier`: retrains the digits classifier of `vst evaluate --reference digits` deterministically.
struct TrainClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train the small digits classifier behind the feature-space FD and class coverage (deterministic).",
        discussion: """
        An MLP 64 → 128 → 64 → 10 (SiLU) on 80 % of the bundled digits in [−1, 1] (split seed 0), AdamW with cosine decay,
        ±1-pixel shift augmentation; prints the held-out accuracy and stores it in the file's metadata. The defaults
        made the shipped weights:
            vst train-classifier -o data/classifier/digits-classifier.safetensors --force
        """)

    @Option(name: [.short, .customLong("output")], help: "Weights file to write (.safetensors).") var output: String = "data/classifier/digits-classifier.safetensors"
    @Option(help: "Passes over the training digits.") var epochs: Int = DigitsClassifierTraining().epochs
    @Option(help: "Seed of the initialisation, batches and augmentation.") var seed: UInt64 = 0
    @Option(name: .customLong("split-seed"), help: "Seed of the train / held-out split.") var splitSeed: UInt64 = 0
    @Flag(help: "Overwrite an existing output file.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) { throw InputFileError(path: output, reason: "exists; pass --force to overwrite it") }
        guard epochs >= 1 else { throw ConfigurationError(field: "--epochs", reason: "must be ≥ 1, got \(epochs)") }
        var s = DigitsClassifierTraining()
        s.epochs = epochs; s.seed = seed; s.splitSeed = splitSeed
        let digits = try Digits.load(as: Float.self)
        let progress = Progress(label: "epoch", quiet: quiet)
        let (net, report) = try DigitsClassifier.train(digits, settings: s) { e, n, _ in progress.update(e, n) }
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent().path
        if !dir.isEmpty { try Outputs.prepareDirectory(dir) }
        try net.save(to: output, report: report, overwrite: force)
        print(String(format: "digits classifier: %d epochs (%d steps) in %.1f s, loss %.4f; accuracy train %.4f (%d), held out %.4f (%d); wrote %@",
                     s.epochs, report.steps, report.seconds, report.finalLoss, report.trainAccuracy, report.trainCount,
                     report.heldOutAccuracy, report.heldOutCount, output))
    }
}
