import ArgumentParser
import Linear

/// `vst`: the Substrate command-line tool.
struct VST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vst",
        abstract: "Substrate: a BLAS/LAPACK tensor engine and the vST analysis of latent spaces.",
        subcommands: [Info.self, Tour.self, BenchLinear.self]
    )
}

VST.main()
