import ArgumentParser
import Foundation
import Linear
import Substrate
// Every file of vst (the generative commands included) sees VSTCore's helpers (Inputs, Outputs, Progress, Fmt,
// Interruption, InputError …) without importing it.
@_exported import VSTCore

extension ProjectionMethod: ExpressibleByArgument {}
extension RandomizedOperator: ExpressibleByArgument {}

/// Options every analysis command shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print exactly one JSON object (the keys of docs/method.md §10) to stdout instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Also write report.json, SVG plots and index.html into this directory.", valueName: "dir"))
    var report: String?

    @Flag(help: "Overwrite existing output files.")
    var force = false

    @Option(help: "Seed of every random choice (half-splits, permutations, subsets).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Hide progress on stderr.")
    var quiet = false
}

/// Options of the commands that write data files and no report (`project`, `lift`).
struct WriteOptions: ParsableArguments {
    @Flag(help: "Print exactly one JSON object to stdout instead of a table.")
    var json = false

    @Flag(help: "Overwrite existing output files (regular files only).")
    var force = false

    @Flag(name: .long, help: "Hide progress on stderr.")
    var quiet = false
}

/// The element type of written .npy outputs.
enum OutputDType: String, ExpressibleByArgument, CaseIterable {
    case float32, float64
    var dtype: DType { self == .float32 ? .float32 : .float64 }
}

/// Printing results: stdout JSON (one compact line) or the table for people.
extension Outputs {
    /// Prints `json` compactly on one line (for --json) or `table` for people.
    static func emit(_ json: JSON, table: @autoclosure () -> String, options: OutputOptions) {
        if options.json { print(json.serialized()) } else { print(table()) }
    }

    /// Prints `json` compactly on one line (when `json`) or `table` for people.
    static func emit(_ json: JSON, table: @autoclosure () -> String, json asJSON: Bool) {
        if asJSON { print(json.serialized()) } else { print(table()) }
    }

    /// Prints a job's output as --json asks.
    static func emit(_ output: JobOutput, options: OutputOptions) {
        emit(output.json, table: output.table, options: options)
    }
}
