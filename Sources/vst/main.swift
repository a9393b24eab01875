import ArgumentParser
import Foundation
import Linear

/// `vst`: the Substrate command-line tool.
struct VST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vst",
        abstract: "Substrate: a BLAS/LAPACK tensor engine and the vST analysis of latent spaces.",
        discussion: "Exit codes: 0 success (validate: pass or warn), 1 validation failed (or an internal failure), 2 bad usage or bad input. Every term is defined in docs/method.md.",
        version: Version.description,
        subcommands: [Info.self, Tour.self, FitProjection.self, MergeStats.self, Project.self, Lift.self,
                      RegimesCommand.self, TrajectoryCommand.self, ScalingCommand.self, DriftCommand.self,
                      AlignCommand.self, EvaluateCommand.self, TrainClassifierCommand.self, ValidateCommand.self, TrainCommand.self, SampleCommand.self, LikelihoodCommand.self, EncodeCommand.self, DecodeCommand.self, DemoCommand.self, CorpusCommand.self, ReportIndexCommand.self]
    )
}

/// Runs the command; `ExitStatus` decides the exit code and the message of whatever it throws.
func runVST() -> Never {
    do {
        var command = try VST.parseAsRoot()
        try command.run()
        exit(0)
    } catch {
        let (code, message) = ExitStatus.of(error)
        if code == 0 { VST.exit(withError: error) }   // --help, --version
        if let message { FileHandle.standardError.write(Data(message.utf8)) }
        exit(code)
    }
}

// Large temporaries (kernel matrices, blocks of rows) come and go all the time: keep freed memory in the heap
// instead of returning it to the kernel and faulting fresh zeroed pages in for the next one.
Memory.retainFreedBlocks()

Interruption.installDefault()
runVST()
