// Helpers for the NeuralTests target: locating data files and comparing tensors.

import Foundation
import Linear
import Testing

/// `<root>/data/<relative>`, the root being the directory that holds Package.swift above this file.
func neuralDataPath(_ relative: String, _ filePath: String = #filePath) -> String {
    var url = URL(fileURLWithPath: filePath)
    for _ in 0..<6 {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
    }
    return url.appendingPathComponent("data").appendingPathComponent(relative).path
}

/// Largest |aᵢ − bᵢ| (∞ when shapes differ).
func maxDifference<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var m = 0.0
    for (x, y) in zip(a.scalars, b.scalars) { m = max(m, abs(Double(x) - Double(y))) }
    return m
}

/// A fresh temporary directory.
func neuralTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("NeuralTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
