import Foundation
import Linear
import Testing
import TestSupport

/// The storage behind a tensor: 64-byte alignment for every size, element access across the whole block, and
/// copies that are independent.
@Suite("TensorStorage")
struct TensorStorageTests {
    @Test("pointer is 64-byte aligned and the whole block is writable", arguments: [0, 1, 3, 7, 8, 63, 1000, 1 << 16, 5_000_001])
    func alignment(count: Int) {
        for _ in 0..<3 {
            let f = TensorStorage<Float>(repeating: 1.5, count: count)
            let d = TensorStorage<Double>(repeating: -2, count: count)
            #expect(Int(bitPattern: f.pointer) % 64 == 0)
            #expect(Int(bitPattern: d.pointer) % 64 == 0)
            if count > 0 {
                #expect(f.pointer[count - 1] == 1.5 && f.pointer[0] == 1.5)
                #expect(d.pointer[count - 1] == -2 && d.pointer[0] == -2)
            }
        }
    }

    @Test("a copy owns its own block")
    func copyIsIndependent() {
        let a = TensorStorage<Double>(repeating: 3, count: 100)
        let b = a.copy()
        b.pointer[5] = 7
        #expect(a.pointer[5] == 3 && b.pointer[5] == 7)
        #expect(Int(bitPattern: b.pointer) % 64 == 0)
    }

    @Test("equal large tensors allocated in a loop keep their values (freed blocks are reused safely)")
    func largeLoop() throws {
        var previous: Tensor<Double>? = nil
        for i in 0..<8 {
            let t = Tensor<Double>.full([1500, 1000], Double(i))
            if let previous { #expect(previous[1499, 999] == Double(i - 1)) }
            #expect(t[0, 0] == Double(i) && t[1499, 999] == Double(i))
            previous = t
        }
    }
}
