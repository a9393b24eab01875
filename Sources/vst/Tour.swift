import ArgumentParser
import Foundation
import Generative
import Linear
import Substrate

/// `vst tour`: a first look at the bundled digits through an SVD.
struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the bundled digits, fit an SVD, print the top-9 explained-variance ratios and the rank-9 reconstruction error.")

    @Option(help: "CSV of samples (rows) with the class label in the last column (default: the bundled digits, found through $SUBSTRATE_DATA, the current directory or the executable's checkout).")
    var data: String?

    @Option(help: "Rank of the reconstruction.")
    var rank: Int = 9

    @Option(help: ArgumentHelp("Also write the regime analysis of the data (report.json, SVG figures, index.html) here.", valueName: "dir"))
    var report: String?

    @Flag(help: "Overwrite an existing report.")
    var force = false

    func run() throws {
        let data = try self.data ?? Digits.defaultPath()
        let table = try CSV.read(data, labelColumn: -1)
        let x = table.data
        guard rank >= 1 && rank <= min(x.shape[0], x.shape[1]) else {
            throw ValidationError("--rank must be in 1...\(min(x.shape[0], x.shape[1])), got \(rank)")
        }
        let n = x.shape[0], d = x.shape[1]
        print("data: \(data): \(n) samples × \(d) features, \(Set(table.labels ?? []).count) classes")
        let mu = try x.mean(axis: 0)
        let xc = try x - mu
        let svd = try xc.svd()
        let variances = svd.s.square()
        let total = variances.sum()
        print("top-\(rank) explained-variance ratios (of the centred data):")
        var cumulative = 0.0
        for i in 0..<rank {
            let r = variances[i] / total
            cumulative += r
            print(String(format: "  %2d  %.4f   cumulative %.4f", i + 1, r, cumulative))
        }
        // Rank-k reconstruction: x̂ = μ + U_k·S_k·V_kᵀ (Eckart–Young), error relative to the data.
        let uk = try svd.u.slice(0..<rank, axis: 1)
        let sk = try svd.s.slice(0..<rank)
        let vtk = try svd.vt.slice(0..<rank, axis: 0)
        let recon = try matmul(uk * sk, vtk) + mu
        let err = try (recon - x).norm() / x.norm()
        let errCentred = try (recon - x).norm() / xc.norm()
        print(String(format: "rank-%d reconstruction: ‖X̂ − X‖_F / ‖X‖_F = %.4f  (relative to the centred data: %.4f = √(1 − %.4f))",
                     rank, err, errCentred, cumulative))
        if let report {
            let r = try Regimes.classify(x)
            try AnalysisReports.regimes(r, states: x, source: data).write(to: report, json: r.json, overwrite: force)
            print("regime of the digits: \(r.regime.rawValue) (k* = \(r.spectrum.signalRank), ρ = \(String(format: "%.3f", r.spectrum.signalEnergy)), TwoNN \(String(format: "%.1f", r.spectrum.twoNNDimension ?? .nan))); report in \(report)/index.html")
        }
    }
}
