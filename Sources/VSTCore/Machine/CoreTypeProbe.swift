import Foundation
import Linear

/// What `vst info` measures of the BLAS kernel sets: each OpenBLAS core type the CPU allows, probed in a child
/// process of the running executable with `OPENBLAS_CORETYPE` set (OpenBLAS picks its kernels once, when it loads,
/// so another core type needs another process), and the JSON it prints.
public enum CoreTypeProbe {
    /// Runs this executable as `<exe> info --probe-child --size n --repeats r` with `OPENBLAS_CORETYPE=coreType` and
    /// one BLAS thread, and decodes the `KernelMeasurement` it prints. A child that crashes or prints no
    /// measurement gives `KernelMeasurement.failed` with the reason (a core type this OpenBLAS cannot run).
    public static func measure(coreType: String, size: Int, repeats: Int) throws -> KernelMeasurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                                    ?? CommandLine.arguments[0])
        process.arguments = ["info", "--probe-child", "--size", "\(size)", "--repeats", "\(repeats)"]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = coreType
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["OPENBLAS_VERBOSE"] = nil
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            return .failed(requested: coreType, reason: "killed by signal \(process.terminationStatus)")
        }
        guard process.terminationStatus == 0, let m = try? decoder().decode(KernelMeasurement.self, from: data) else {
            return .failed(requested: coreType, reason: "exit \(process.terminationStatus)")
        }
        return m
    }

    /// The measurement line a probe child prints.
    public static func childOutput(_ m: KernelMeasurement) throws -> String {
        String(decoding: try encoder().encode(m), as: UTF8.self)
    }

    /// `vst info --json`: the BLAS build, the CPU, the thread and core-type variables as found, the active kernels'
    /// measurement, every probed core type, the floor (the fastest that passes the self-test) and the advice.
    public static func reportJSON(cpu: CPUFeatures?, size: Int, active: KernelMeasurement, candidates: [KernelMeasurement],
                                  advice: KernelAdvice, environment env: [String: String]) throws -> String {
        struct Report: Encodable {
            var blas: String, cpu_model: String?, vector_isa: String?, environment: [String: String]
            var size: Int, active: KernelMeasurement, candidates: [KernelMeasurement]
            var floor: KernelMeasurement?, sgemm_fraction_of_floor: Double, dgemm_fraction_of_floor: Double, advice: [String]
        }
        let keys = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]
        let report = Report(blas: BLAS.configuration, cpu_model: cpu?.modelName, vector_isa: cpu?.vectorISA,
                            environment: env.filter { keys.contains($0.key) }, size: size, active: active,
                            candidates: candidates, floor: advice.floor, sgemm_fraction_of_floor: advice.sgemmFraction,
                            dgemm_fraction_of_floor: advice.dgemmFraction, advice: advice.lines)
        let e = encoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(report), as: UTF8.self)
    }

    /// JSON with NaN and ∞ as strings (a failed probe has no error value).
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}
