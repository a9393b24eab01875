import Linear

/// Records a sampler's path from noise to data as a T×n×D tensor, the input of `vst trajectory`.
///
/// Feed it every state (`record(step:time:state:)`, or pass `observer` to a solver); it keeps step 0, every
/// `every`-th step, and — when `finish()` is called — the last state seen, so the first and last states are
/// always in the record. Only the first `rows` rows of the batch are kept (all when nil), each flattened to D
/// values, so the memory is T·n·D scalars. Steps must arrive in increasing order.
///
///     let recorder = try TrajectoryRecorder<Float>(every: 10, rows: 256)
///     let out = try ODESolver.solve(f, initial: x, times: grid, method: .heun, observe: recorder.observer)
///     try recorder.write(npy: "path.npy")          // [T, 256, D], atomic; the times are in `recorder.times`
public final class TrajectoryRecorder<S: BLASScalar> {
    /// Keep every `every`-th step (plus the first and the last).
    public let every: Int
    /// How many rows of the batch to keep (nil: all).
    public let rows: Int?
    /// The step numbers of the recorded states.
    public private(set) var steps: [Int] = []
    /// The times (or noise levels) of the recorded states, as reported by the sampler.
    public private(set) var times: [Double] = []
    var states: [Tensor<S>] = []
    var latest: (step: Int, time: Double, state: Tensor<S>)?
    var rowShape: [Int]?

    /// A recorder keeping every `every`-th state (≥ 1) of the first `rows` rows.
    public init(every: Int = 1, rows: Int? = nil) throws {
        guard every >= 1 else { throw ConfigurationError(field: "TrajectoryRecorder.every", reason: "TrajectoryRecorder: 'every' must be ≥ 1, got \(every)") }
        if let r = rows, r < 1 { throw ConfigurationError(field: "TrajectoryRecorder.rows", reason: "TrajectoryRecorder: 'rows' must be ≥ 1, got \(r)") }
        self.every = every
        self.rows = rows
    }

    /// Offers the state of step `step` at `time`: kept when it is step 0 or a multiple of `every`.
    /// - Throws: `TensorError` when steps go backwards or the state's shape changes.
    public func record(step: Int, time: Double = .nan, state: Tensor<S>) throws {
        guard state.rank >= 1, state.shape[0] >= 1 else {
            throw TensorError.invalidShape("TrajectoryRecorder: expected a batch [n, …], got shape \(state.shape)")
        }
        if let last = latest, step <= last.step {
            throw ConfigurationError(field: "TrajectoryRecorder.record(step:)", reason: "TrajectoryRecorder: step \(step) after step \(last.step); steps must increase")
        }
        let n = Swift.min(rows ?? state.shape[0], state.shape[0])
        let kept = n == state.shape[0] ? state : try state.slice(0..<n)
        let flat = try kept.reshaped([n, kept.count / n])
        if let shape = rowShape, shape != flat.shape {
            throw TensorError.shapeMismatch(operation: "TrajectoryRecorder: the recorded batch changed shape (first, now)", lhs: shape, rhs: flat.shape)
        }
        rowShape = flat.shape
        latest = (step, time, flat)
        if states.isEmpty || step % every == 0 { append(step, time, flat) }
    }

    /// A `StepObserver` that records into this recorder.
    public var observer: StepObserver<S> { { [unowned self] step, t, x in try self.record(step: step, time: t, state: x) } }

    func append(_ step: Int, _ time: Double, _ state: Tensor<S>) {
        steps.append(step); times.append(time); states.append(state)
    }

    /// Adds the last state seen if it was not kept already. Idempotent; `tensor()` and `write` call it.
    public func finish() {
        if let last = latest, steps.last != last.step { append(last.step, last.time, last.state) }
    }

    /// Number of recorded states so far (after `finish()`: the T of the tensor).
    public var count: Int { states.count }

    /// The recorded path as a [T, n, D] tensor.
    /// - Throws: `TensorError.invalidShape` when nothing was recorded (a trajectory of no frames).
    public func tensor() throws -> Tensor<S> {
        finish()
        guard !states.isEmpty else { throw TensorError.invalidShape("TrajectoryRecorder: nothing was recorded") }
        return try Tensor.stack(states, axis: 0)
    }

    /// Writes the [T, n, D] path as `.npy` (`<f4` for Float, `<f8` for Double), atomically: a crash never leaves a
    /// partial file, and an existing file is kept unless `overwrite`.
    public func write(npy path: String, overwrite: Bool = false) throws {
        try tensor().save(npy: path, overwrite: overwrite)
    }
}
