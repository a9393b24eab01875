import Foundation
import Generative
import Substrate

/// Everything that decides what `vst train` trains: the family, the data, the training loop's sizes and every option
/// of the families. `nil` means "the family's default" (`TrainingRecipe.resolved(dataDimension:latentDimension:)`
/// fills them in); the JSON keys are the command line's long option names without `--` (`"batch-size": 256`).
///
/// What a run writes where (the output, `--resume`, `--monitor`, `--checkpoint-every`, `--force`, `--quiet`) is not
/// part of the recipe: two runs of one recipe train the same model.
public struct TrainingRecipe: Codable, Equatable, Sendable {
    // The run.
    public var family: String
    public var data: String
    public var dim: Int?
    public var count: Int?
    public var steps: Int?
    public var batchSize: Int?
    public var scaling: String?
    public var lr: Double?
    public var seed: UInt64?
    // The networks and the EMA.
    public var hidden: Int?
    public var blocks: Int?
    public var emaDecay: Double?
    // ddpm.
    public var schedule: String?
    public var timesteps: Int?
    public var target: String?
    public var variance: String?
    public var lossWeighting: String?
    public var clipSample: Double?
    // score-sde, flow-matching.
    public var sde: String?
    public var pairing: String?
    public var sigmaMin: Double?
    public var skipVariance: String?
    public var prediction: String?
    // The denoiser network.
    public var denoiser: String?
    public var patch: Int?
    public var depth: Int?
    public var heads: Int?
    public var width: Int?
    public var positional: String?
    public var conditional: Bool?
    public var labelDropout: Double?
    // consistency.
    public var teacher: String?
    public var sigmaData: Double?
    public var sigmaMax: Double?
    public var ctFinalSteps: Int?
    public var cdSteps: Int?
    public var metric: String?
    public var ctInitialSteps: Int?
    public var targetDecay: Double?
    public var weighting: String?
    public var noiseSampling: String?
    public var ctRecipe: String?
    public var improvedCT: Bool?
    // vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion.
    public var latentDim: Int?
    public var hiddenLayers: Int?
    public var beta: Double?
    public var klWarmup: Int?
    /// vae: components of the latent mixture fitted after training (0: chosen by BIC over 1 … 10).
    public var latentComponents: Int?
    public var likelihood: String?
    public var codebookSize: Int?
    public var codePositions: Int?
    public var commitment: Double?
    public var emaCodebook: Bool?
    public var restartEvery: Int?
    public var criticSteps: Int?
    public var penalty: Double?
    public var lrDecay: String?
    public var r1: Double?
    public var labelsFile: String?
    public var couplings: Int?
    public var noActnorm: Bool?
    public var principalAxes: Bool?
    public var coupledFeatures: Int?
    public var dequantize: Int?
    public var vae: String?
    public var prior: String?

    public init(family: String, data: String) {
        self.family = family
        self.data = data
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case family, data, dim, count, steps, batchSize = "batch-size", scaling, lr, seed, hidden, blocks, emaDecay = "ema-decay"
        case schedule, timesteps, target, variance, lossWeighting = "loss-weighting", clipSample = "clip-sample"
        case sde, pairing, sigmaMin = "sigma-min", skipVariance = "skip-variance", prediction
        case denoiser, patch, depth, heads, width, positional, conditional, labelDropout = "label-dropout"
        case teacher, sigmaData = "sigma-data", sigmaMax = "sigma-max", ctFinalSteps = "ct-final-steps", cdSteps = "cd-steps"
        case metric, ctInitialSteps = "ct-initial-steps", targetDecay = "target-decay", weighting, noiseSampling = "noise-sampling"
        case ctRecipe = "ct-recipe", improvedCT = "improved-ct"
        case latentDim = "latent-dim", hiddenLayers = "hidden-layers", beta, klWarmup = "kl-warmup", likelihood, latentComponents = "latent-components"
        case codebookSize = "codebook-size", codePositions = "code-positions", commitment, emaCodebook = "ema-codebook"
        case restartEvery = "restart-every", criticSteps = "critic-steps", penalty, lrDecay = "lr-decay", r1
        case labelsFile = "labels-file", couplings, noActnorm = "no-actnorm", principalAxes = "principal-axes", coupledFeatures = "coupled-features", dequantize, vae, prior
    }

    /// The recipe with every field that `other` sets taken from `other` (`family` and `data` too, when not empty):
    /// a recipe file overridden by the options given on the command line.
    public func overridden(by other: TrainingRecipe) throws -> TrainingRecipe {
        // Field by field through the JSON objects: a key present in `other` wins.
        let mine = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any] ?? [:]
        var theirs = try JSONSerialization.jsonObject(with: JSONEncoder().encode(other)) as? [String: Any] ?? [:]
        if other.family.isEmpty { theirs["family"] = nil }
        if other.data.isEmpty { theirs["data"] = nil }
        let merged = mine.merging(theirs) { _, b in b }
        return try JSONDecoder().decode(TrainingRecipe.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// The recipe as JSON (keys sorted; indented unless `compact`), as `vst train --print-recipe` prints it, `--recipe`
    /// reads it and the model file's `recipe` metadata holds it (compact).
    public func json(compact: Bool = false) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// Reads a recipe file (JSON), or the recipe a model file written by `vst train` records (its `recipe` metadata);
    /// a file that cannot be read or decoded is an `InputFileError` naming it.
    public static func load(_ path: String) throws -> TrainingRecipe {
        if GenerativeModelFile<Float>.isModelFile(path) {
            let file: GenerativeModelFile<Float>
            do { file = try GenerativeModelFile<Float>.load(path) } catch { throw InputFileError(path: path, reason: "\(error)") }
            guard let text = file.metadata["recipe"], let r = try? JSONDecoder().decode(TrainingRecipe.self, from: Data(text.utf8)) else {
                throw InputFileError(path: path, reason: "the model file records no recipe (written by an earlier vst train)")
            }
            return r
        }
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputFileError(path: path, reason: "cannot read the recipe: \(error.localizedDescription)")
        }
        // A misspelt key would otherwise be ignored silently.
        if let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw InputFileError(path: path, reason: "unknown recipe field \"\(unknown)\" (the fields are vst train's long option names)")
            }
        }
        do { return try JSONDecoder().decode(TrainingRecipe.self, from: bytes) } catch let DecodingError.keyNotFound(k, _) {
            throw InputFileError(path: path, reason: "the recipe has no \"\(k.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c) {
            throw InputFileError(path: path, reason: "recipe field \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\": \(c.debugDescription)")
        } catch let DecodingError.dataCorrupted(c) {
            throw InputFileError(path: path, reason: "not a JSON recipe: \(c.debugDescription)")
        } catch {
            throw InputFileError(path: path, reason: "not a JSON recipe: \(error)")
        }
    }
}
