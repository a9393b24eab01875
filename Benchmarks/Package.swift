// swift-tools-version: 6.1
// The Substrate benchmark suite (package-benchmark). A separate package so that `benchmark` and its
// dependencies never enter the root package's dependency graph. Run from this directory:
//     swift package --allow-writing-to-package-directory benchmark
import PackageDescription

let package = Package(
    name: "SubstrateBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Substrate", path: ".."),
        // Only the MallocInterposer trait: the default set also enables RuntimeInterposer (Linux, Swift 6.3),
        // whose package is not needed for these benchmarks.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.0.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "LinearBenchmarks",
            dependencies: [
                .product(name: "Linear", package: "Substrate"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LinearBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        // The MLP-denoiser training step (Neural), a plain executable: Benchmarks/compare/torch_step.py runs it
        // beside the same step in PyTorch. Build: swift build -c release --package-path Benchmarks --product NeuralStep
        .executableTarget(
            name: "NeuralStep",
            dependencies: [
                .product(name: "Neural", package: "Substrate"),
                .product(name: "Linear", package: "Substrate"),
            ],
            path: "Benchmarks/NeuralStep"
        ),
    ]
)
