import Generative
import Neural
import Substrate

/// Opens a model file written by `vst train` for a command (`sample`, `likelihood`, `encode`, `decode`): a file that
/// does not hold a model it can build stays the `ModelFileError` naming it; any other failure (missing, unreadable,
/// not safetensors) becomes an `InputFileError` naming the path. `useEMA` takes the averaged weights where the file
/// has them.
func openModelFile(_ path: String, useEMA: Bool = false) throws -> GenerativeModelFile<Float> {
    do {
        return try GenerativeModelFile<Float>.load(path, useEMA: useEMA)
    } catch let e as ModelFileError {
        throw e
    } catch {
        throw InputFileError(path: path, reason: "\(error)")
    }
}
