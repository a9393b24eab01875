import CLinear

/// Process-wide allocator settings for numeric workloads.
public enum Memory {
    /// Keeps freed large blocks in the heap for reuse (glibc `mallopt`: mmap threshold and trim threshold 1 GiB).
    ///
    /// By default glibc serves every allocation above 32 MB with a fresh `mmap` and returns it on `free`, so a loop
    /// that allocates a large temporary per iteration pays a page fault and a page zeroing for every page, every
    /// time (measured: over half the run time of a streamed covariance fit at D = 1024 went to the kernel). Call
    /// once at program start; a library never calls it on its own. Returns false where it is unavailable.
    @discardableResult
    public static func retainFreedBlocks() -> Bool {
        #if os(Linux)
        return mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
        #else
        return false
        #endif
    }
}
