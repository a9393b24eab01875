/// The dimensional ladder of vST (docs/method.md §1): the triadic cores 3, 6, 9 and the substrate rungs 64 … 1024.
public enum Ladder {
    /// [3, 6, 9, 64, 128, 256, 512, 1024].
    public static let standard = [3, 6, 9, 64, 128, 256, 512, 1024]
    /// The triadic cores: one, two and three triads of principal directions.
    public static let cores = [3, 6, 9]
    /// The substrate rungs that sweeps, benchmarks and scaling studies walk.
    public static let rungs = [64, 128, 256, 512, 1024]
}
