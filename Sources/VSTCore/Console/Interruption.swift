import Foundation
import Linear

/// SIGINT / SIGTERM. Every command gets handlers installed without SA_RESTART (`installDefault`), so a signal
/// also ends a blocking open or read (which would otherwise restart and ignore it): the handler removes this
/// process's temporary files and directories (`TemporaryFiles`) and exits with 128 + the signal number (130, 143).
/// A long batch job may ask for cooperation instead (`install`): the first signal only sets a flag, which the job
/// checks between blocks and files, so it can report what was completed; a second signal ends at once as above.
public enum Interruption {
    /// The signal received (0: none).
    nonisolated(unsafe) public static var received: Int32 = 0
    /// True while a command checks `received` itself (after `install()`).
    nonisolated(unsafe) public static var cooperative = false

    /// Installs the handlers for every command (call once, first thing): a signal removes the temporary files and
    /// exits 128 + signal at once, even while the process is blocked in a system call.
    public static func installDefault() {
        TemporaryFiles.prepare()
        received = 0
        cooperative = false
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = interruptionHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0                                   // no SA_RESTART: blocking calls fail with EINTR
            sigaction(s, &action, nil)
            sigaddset(&set, s)
        }
        // A process started from a thread that blocks the signals (libdispatch workers do, and posix_spawn passes
        // the mask on) would otherwise never see them.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Switches to cooperative handling (idempotent): the first signal only sets `received`.
    public static func install() {
        installDefault()
        cooperative = true
    }

    public static var name: String { received == SIGINT ? "SIGINT" : received == SIGTERM ? "SIGTERM" : "signal \(received)" }

    /// Throws `Interrupted` when a signal has arrived.
    public static func check() throws {
        if received != 0 { throw Interrupted(signal: received) }
    }
}

/// The handler: in cooperative mode the first signal only sets the flag; otherwise (or on a second signal) it
/// removes the temporary files, says so on stderr and ends the process (only async-signal-safe calls).
private let interruptionHandler: @convention(c) (Int32) -> Void = { sig in
    if Interruption.cooperative && Interruption.received == 0 {
        Interruption.received = sig
        return
    }
    TemporaryFiles.removeAll()
    let message: StaticString = sig == SIGINT ? "\nvst: interrupted by SIGINT; temporary files removed, no output written\n"
        : "\nvst: interrupted by SIGTERM; temporary files removed, no output written\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(128 + sig)
}

/// Thrown by `Interruption.check()`; the command reports what was completed and exits 128 + signal. `message`, when
/// set, is what the job completed (printed on stderr before the process exits).
public struct Interrupted: Error {
    public var signal: Int32
    public var message: String?
    public init(signal: Int32, message: String? = nil) {
        self.signal = signal
        self.message = message
    }
}
