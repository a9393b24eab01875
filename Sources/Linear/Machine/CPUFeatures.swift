import Foundation

/// What the CPU can execute, read from `/proc/cpuinfo`: its name and the vector instruction sets that decide which
/// OpenBLAS kernels (its "core types") can run on it.
public struct CPUFeatures: Sendable, Codable, Equatable {
    /// e.g. "AuthenticAMD", "GenuineIntel"; empty when unknown.
    public var vendor: String
    /// The model name as the kernel reports it, e.g. "AMD EPYC" or "Intel(R) Xeon(R) Platinum 8488C".
    public var modelName: String
    /// The instruction-set flags (`avx2`, `fma`, `avx512f`, …).
    public var flags: Set<String>

    public init(vendor: String, modelName: String, flags: Set<String>) {
        self.vendor = vendor
        self.modelName = modelName
        self.flags = flags
    }

    /// This machine's features, or nil where `/proc/cpuinfo` cannot be read (not Linux).
    public static var current: CPUFeatures? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return CPUFeatures(cpuinfo: text)
    }

    /// Parses the first processor's block of a `/proc/cpuinfo` text.
    public init(cpuinfo: String) {
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty, !fields.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        self.init(vendor: fields["vendor_id"] ?? "", modelName: fields["model name"] ?? "",
                  flags: Set((fields["flags"] ?? fields["Features"] ?? "").split(separator: " ").map(String.init)))
    }

    /// AVX-512 foundation plus the BW, DQ and VL subsets OpenBLAS's SkylakeX kernels use.
    public var hasAVX512: Bool { flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) }
    public var hasAVX2FMA: Bool { flags.isSuperset(of: ["avx2", "fma"]) }

    /// The widest vector instruction set, in words: "AVX-512", "AVX2 + FMA", "AVX", "SSE3" or "other".
    public var vectorISA: String {
        if hasAVX512 { return "AVX-512" }
        if hasAVX2FMA { return "AVX2 + FMA" }
        if flags.contains("avx") { return "AVX" }
        if flags.contains("pni") || flags.contains("sse3") { return "SSE3" }
        return "other"
    }

    /// OpenBLAS core types whose instructions this CPU has, fastest family first: the candidates worth trying with
    /// `OPENBLAS_CORETYPE`. (Names as OpenBLAS's `dynamic.c` spells them; a build that lacks one falls back to its
    /// own choice, which ``KernelProbe`` detects by reading back the core name.)
    public var candidateCoreTypes: [String] {
        #if arch(x86_64)
        var names: [String] = []
        if hasAVX512 {
            if flags.contains("avx512_fp16") && flags.contains("amx_tile") { names.append("SapphireRapids") }
            if flags.contains("avx512_bf16") { names.append("Cooperlake") }
            names.append("SkylakeX")
        }
        if hasAVX2FMA { names += ["Haswell", "Zen"] }
        if flags.contains("avx") { names.append("Sandybridge") }
        if flags.contains("sse4_2") { names.append("Nehalem") }
        names.append("Prescott")
        return names
        #else
        return []
        #endif
    }
}
