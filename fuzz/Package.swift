// swift-tools-version:5.9
// libFuzzer targets for Substrate's readers. Not part of the main package: build with scripts/fuzz.sh, which passes
// `-sanitize=fuzzer,address -parse-as-library` (libFuzzer supplies `main`; each target exports
// `LLVMFuzzerTestOneInput`). Built with plain `swift build` these executables have no entry point.
import PackageDescription

let package = Package(
    name: "SubstrateFuzz",
    dependencies: [.package(name: "Substrate", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzNPY", dependencies: ["FuzzSupport", .product(name: "Linear", package: "Substrate")]),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", .product(name: "Linear", package: "Substrate")]),
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "Linear", package: "Substrate")]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: [
            "FuzzSupport",
            .product(name: "Linear", package: "Substrate"),
            .product(name: "Neural", package: "Substrate"),
            .product(name: "Generative", package: "Substrate"),
        ]),
        // Not a fuzzer: one fixed workload per input (Tensor storage, IO, autodiff) under LeakSanitizer, run by
        // scripts/leakcheck.sh with -runs=N.
        .executableTarget(name: "LeakCheck", dependencies: [
            "FuzzSupport",
            .product(name: "Linear", package: "Substrate"),
            .product(name: "Neural", package: "Substrate"),
        ]),
    ]
)
