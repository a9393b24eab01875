// Helpers of the GenerativeTests target: the numpy golden file, relative comparisons, Gaussian log-densities.
// Locations, scratch directories and `maxDifference` come from the shared TestSupport library.

import Foundation
import Linear
import Testing
import TestSupport

/// The values of data/golden/generative_golden.json (written by data/golden/make_generative_golden.py).
struct GenerativeGolden {
    let json: [String: Any]
    init() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: dataPath("golden/generative_golden.json")))
        json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
    func section(_ name: String) -> [String: Any] { json[name] as! [String: Any] }
    func ints(_ key: String) -> [Int] { (json[key] as! [Any]).map { ($0 as! NSNumber).intValue } }
}

func doubles(_ d: [String: Any], _ key: String) -> [Double] { (d[key] as! [Any]).map { ($0 as! NSNumber).doubleValue } }
func ints(_ d: [String: Any], _ key: String) -> [Int] { (d[key] as! [Any]).map { ($0 as! NSNumber).intValue } }

/// Largest relative difference |a − b| / max(|b|, floor).
func maxRelativeDifference(_ a: [Double], _ b: [Double], floor: Double = 1e-300) -> Double {
    guard a.count == b.count else { return .infinity }
    var m = 0.0
    for (x, y) in zip(a, b) { m = max(m, abs(x - y) / max(abs(y), floor)) }
    return m
}

/// Rounds to `digits` significant digits (to compare with a value published to that many digits).
func significant(_ x: Double, _ digits: Int) -> Double {
    if x == 0 { return 0 }
    let e = Foundation.floor(Foundation.log10(abs(x))) + 1
    let scale = Foundation.pow(10, Double(digits) - e)
    return (x * scale).rounded() / scale
}

/// log N(x; 0, v·I) of each row of [n, d] x.
func gaussianLogDensity(_ x: Tensor<Double>, variance v: Double) -> [Double] {
    let d = x.shape[1]
    return (0..<x.shape[0]).map { i in
        var q = 0.0
        for j in 0..<d { q += x[i, j] * x[i, j] }
        return -0.5 * Double(d) * log(2 * Double.pi * v) - 0.5 * q / v
    }
}
