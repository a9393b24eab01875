import ArgumentParser
import Foundation
import Linear

/// `substrate-bench`: the benchmarks of the package, out of the `vst` product. One catalogue of workloads
/// (Workloads.swift), timed by one loop (BenchTiming), seen three ways: the Swift-only suite over the ladder
/// (`suite`, what `make bench-swift` runs), and the JSON views the Python comparisons in Benchmarks/compare read
/// (`linear` for compare.py, `substrate` for compare_substrate.py); `neural-step` is the MLP step of torch_step.py,
/// `train-step` the families' training step of train_step.py with its GEMM / clip / AdamW split.
struct SubstrateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "substrate-bench",
        abstract: "Substrate's benchmarks: the suite over d = 64…1024 and the JSON views the Python comparisons read.",
        discussion: "Every JSON output records the OpenBLAS core type Linear's OpenBLAS picked and the OPENBLAS_CORETYPE, "
            + "OPENBLAS_L2_SIZE and thread variables as found. Exit codes: 0 success, 1 a regression against the "
            + "baseline (suite --baseline), 2 bad usage or bad input.",
        subcommands: [Suite.self, LinearView.self, SubstrateView.self, NeuralStep.self, TrainStep.self],
        defaultSubcommand: Suite.self
    )
}

/// Runs the command; bad usage and bad input print one line on stderr and exit 2.
func runBench() -> Never {
    do {
        var command = try SubstrateBench.parseAsRoot()
        try command.run()
        exit(0)
    } catch let code as ExitCode {
        exit(code.rawValue)
    } catch let e as BenchError {
        FileHandle.standardError.write(Data("substrate-bench: error: \(e)\n".utf8))
        exit(2)
    } catch let e as TensorError {
        FileHandle.standardError.write(Data("substrate-bench: error: \(e)\n".utf8))
        exit(2)
    } catch {
        let code = SubstrateBench.exitCode(for: error)
        if code == .success { SubstrateBench.exit(withError: error) }   // --help
        FileHandle.standardError.write(Data((SubstrateBench.fullMessage(for: error) + "\n").utf8))
        exit(2)
    }
}

// As in vst: freed blocks stay in the heap (the memory figures of the Substrate view assume it).
_ = Memory.retainFreedBlocks()
runBench()
