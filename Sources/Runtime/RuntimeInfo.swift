/// The runtime library: the compiled-file format and the interpreter that executes it. It is a
/// package product of its own so an application can embed it without any compiler module.
public enum SkrrRuntimeInfo {
    /// Version of the runtime file format this library reads and writes.
    public static let formatVersion: UInt32 = 3
}
