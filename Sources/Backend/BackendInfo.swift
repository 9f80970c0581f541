import SkrrIR
import SkrrRuntime

/// The backend lowers a verified `ModelIR` into the runtime file format of `SkrrRuntime`.
public enum SkrrBackendInfo {
    /// The format version the backend writes; always the one the runtime library reads.
    public static let formatVersion = SkrrRuntimeInfo.formatVersion
}
