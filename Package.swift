// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Substrate",
    products: [
        .library(name: "Linear", targets: ["Linear"]),
        .library(name: "Substrate", targets: ["Substrate"]),
        .library(name: "Neural", targets: ["Neural"]),
        .library(name: "Generative", targets: ["Generative"]),
        .executable(name: "vst", targets: ["vst"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLinear",
            path: "CLinear",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .target(
            name: "Linear",
            dependencies: [
                "CLinear",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "Substrate",
            dependencies: ["Linear"]
        ),
        .target(
            name: "Neural",
            dependencies: ["Linear"]
        ),
        .target(
            name: "Generative",
            dependencies: ["Neural", "Linear"]
        ),
        // What the commands do (reading, fit dispatch, analyses, reports; building and training generative models
        // from a recipe, evaluating samples), testable without a process.
        .target(
            name: "VSTCore",
            dependencies: ["Linear", "Substrate", "Neural", "Generative"]
        ),
        .executableTarget(
            name: "vst",
            dependencies: [
                "VSTCore",
                "Linear",
                "Substrate",
                "Generative",
                "Neural",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Tooling, not product: the benchmark executable and its tests live under Benchmarks/, so Sources/ holds only
        // what ships (and the layering checks over Sources/ need no exception for the floor's direct gemm calls).
        .executableTarget(
            name: "substrate-bench",
            dependencies: [
                "Linear",
                "Substrate",
                "Generative",
                "Neural",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/Sources/SubstrateBench"
        ),
        // The one test-support library (locations, scratch directories, comparisons, running a built binary,
        // shared synthetic inputs) that every test target imports.
        .target(
            name: "TestSupport",
            dependencies: ["Linear"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "SubstrateBenchTests",
            dependencies: ["substrate-bench", "TestSupport"],
            path: "Benchmarks/Tests/SubstrateBenchTests"
        ),
        .testTarget(
            name: "LinearTests",
            dependencies: ["Linear", "TestSupport"]
        ),
        .testTarget(
            name: "NeuralTests",
            dependencies: ["Neural", "Linear", "TestSupport"]
        ),
        .testTarget(
            name: "GenerativeTests",
            dependencies: ["Generative", "Neural", "Linear", "Substrate", "TestSupport"]
        ),
        .testTarget(
            name: "SubstrateTests",
            dependencies: ["Substrate", "Linear", "TestSupport"]
        ),
        .testTarget(
            name: "VSTCoreTests",
            dependencies: ["VSTCore", "Substrate", "Linear", "Generative", "TestSupport"]
        ),
        .testTarget(
            name: "VSTTests",
            dependencies: ["vst", "Linear", "TestSupport"]
        ),
    ],
    // Swift 6 language mode: strict concurrency checking in every target (shared state is Sendable or
    // `nonisolated(unsafe)` with the reason stated; threads start only in `Linear.Parallel`).
    swiftLanguageModes: [.v6]
)
