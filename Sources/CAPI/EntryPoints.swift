import CSkrrABI
import SkrrDriver
import SkrrRuntime
import SkrrSupport

@_cdecl("skrr_abi_version")
public func abiVersion() -> Int32 { 1 }

@_cdecl("skrr_open")
public func abiOpen(_ path: UnsafePointer<CChar>?, _ encoder: UnsafePointer<CChar>?, _ pipeline: UnsafePointer<CChar>?,
                    _ weightCheck: Int32) -> OpaquePointer? {
    recordingErrors(nil) {
        guard let path = string(path) else { throw SkrrError(key: "path", "is NULL") }
        var kind: PipelineKind?
        if let name = string(pipeline) {
            guard let known = PipelineKind(rawValue: name) else {
                throw SkrrError(key: "pipeline", "unknown '\(name)' (known: \(PipelineKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kind = known
        }
        BLAS.restoreThreadsAfterEachCall()
        let session = try EncoderSession(model: path, encoder: string(encoder), pipeline: kind, weightCheck: weightCheck != 0)
        return OpaquePointer(Unmanaged.passRetained(EncoderHandle(session)).toOpaque())
    }
}

@_cdecl("skrr_close")
public func abiClose(_ encoder: OpaquePointer?) {
    guard let encoder else { return }
    Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer(encoder)).release()
}

@_cdecl("skrr_encoder_pipeline")
public func abiPipeline(_ encoder: OpaquePointer?) -> UnsafePointer<CChar>? {
    recordingErrors(nil) { UnsafePointer(try handle(encoder).pipelineName) }
}

@_cdecl("skrr_encoder_max_length")
public func abiMaxLength(_ encoder: OpaquePointer?) -> Int64 {
    recordingErrors(-1) { Int64(try handle(encoder).session.preset.maxLength ?? 0) }
}

@_cdecl("skrr_encoder_width")
public func abiWidth(_ encoder: OpaquePointer?) -> Int64 {
    recordingErrors(-1) { Int64(try handle(encoder).session.program.spec.hiddenSize) }
}

/// The options every encode call takes, parsed once.
struct EncodeSettings {
    var output: OutputSelection?
    var compute = ComputePrecision.f32
    var maxTokens = ResourceLimits.defaultTokensPerSequence

    init(_ output: UnsafePointer<CChar>?, _ compute: UnsafePointer<CChar>?, _ maxTokens: Int64) throws {
        if let text = string(output) {
            guard let parsed = OutputSelection(text) else {
                throw SkrrError(key: "output", "expected hidden, pooled, projected or layer:N, got '\(text)'")
            }
            self.output = parsed
        }
        if let text = string(compute) {
            guard let parsed = ComputePrecision(rawValue: text) else { throw SkrrError(key: "compute", "expected f32, bf16 or int8, got '\(text)'") }
            self.compute = parsed
        }
        if maxTokens != 0 {
            guard (1...Int64(ResourceLimits.tokensPerSequence)).contains(maxTokens) else {
                throw SkrrError(key: "max_tokens", "expected 1...\(ResourceLimits.tokensPerSequence) (0: the default), got \(maxTokens)")
            }
            self.maxTokens = Int(maxTokens)
        }
    }
}

func encoded(_ encoder: OpaquePointer?, _ settings: EncodeSettings, _ batch: (EncoderSession) throws -> TokenBatch) throws -> OpaquePointer? {
    let handle = try handle(encoder)
    let arrays = try handle.lock.withLock { _ in
        let session = handle.session
        return try session.encode(try batch(session), output: settings.output, compute: settings.compute, maxTokens: settings.maxTokens)
    }
    return OpaquePointer(Unmanaged.passRetained(ResultHandle(arrays)).toOpaque())
}

@_cdecl("skrr_encode_prompts")
public func abiEncodePrompts(_ encoder: OpaquePointer?, _ prompts: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                             _ output: UnsafePointer<CChar>?, _ compute: UnsafePointer<CChar>?, _ maxTokens: Int64) -> OpaquePointer? {
    recordingErrors(nil) {
        let settings = try EncodeSettings(output, compute, maxTokens)
        guard count > 0, let prompts else { throw SkrrError(key: "prompts", "expected at least one prompt") }
        let texts = try (0..<count).map { index -> (text: String, origin: String) in
            guard let text = prompts[index] else { throw SkrrError(key: "prompts", "prompt \(index + 1) is NULL") }
            return (String(cString: text), "prompt \(index + 1)")
        }
        return try encoded(encoder, settings) { try $0.batch(prompts: texts, maxTokens: settings.maxTokens) }
    }
}

@_cdecl("skrr_encode_ids")
public func abiEncodeIds(_ encoder: OpaquePointer?, _ ids: UnsafePointer<UnsafePointer<Int32>?>?, _ lengths: UnsafePointer<Int>?,
                         _ count: Int, _ output: UnsafePointer<CChar>?, _ compute: UnsafePointer<CChar>?, _ maxTokens: Int64) -> OpaquePointer? {
    recordingErrors(nil) {
        let settings = try EncodeSettings(output, compute, maxTokens)
        guard count > 0, let ids, let lengths else { throw SkrrError(key: "ids", "expected at least one sequence") }
        let sequences = try (0..<count).map { index -> [Int32] in
            let length = lengths[index]
            guard length > 0, length <= ResourceLimits.tokensPerSequence, let row = ids[index] else {
                throw SkrrError(key: "ids", "sequence \(index) has length \(length) or no ids (expected 1...\(ResourceLimits.tokensPerSequence))")
            }
            return Array(UnsafeBufferPointer(start: row, count: length))
        }
        // The interpreter checks every id against the vocabulary, as for `skrrc run --ids`.
        return try encoded(encoder, settings) { try $0.batch(ids: sequences) }
    }
}

@_cdecl("skrr_result_count")
public func abiResultCount(_ result: OpaquePointer?) -> Int {
    guard let result else { return 0 }
    return Unmanaged<ResultHandle>.fromOpaque(UnsafeRawPointer(result)).takeUnretainedValue().entries.count
}

@_cdecl("skrr_result_name")
public func abiResultName(_ pointer: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    result(pointer, index).map { UnsafePointer($0.name) }
}

@_cdecl("skrr_result_dtype")
public func abiResultDtype(_ pointer: OpaquePointer?, _ index: Int) -> Int32 { result(pointer, index)?.dtype ?? -1 }

@_cdecl("skrr_result_ndim")
public func abiResultNdim(_ pointer: OpaquePointer?, _ index: Int) -> Int { result(pointer, index)?.shape.count ?? 0 }

@_cdecl("skrr_result_shape")
public func abiResultShape(_ pointer: OpaquePointer?, _ index: Int) -> UnsafePointer<Int64>? {
    result(pointer, index).flatMap { $0.shape.baseAddress.map { UnsafePointer($0) } }
}

@_cdecl("skrr_result_data")
public func abiResultData(_ pointer: OpaquePointer?, _ index: Int) -> UnsafeRawPointer? {
    result(pointer, index).flatMap { $0.data.baseAddress.map { UnsafeRawPointer($0) } }
}

@_cdecl("skrr_result_nbytes")
public func abiResultBytes(_ pointer: OpaquePointer?, _ index: Int) -> Int { result(pointer, index)?.data.count ?? 0 }

@_cdecl("skrr_result_free")
public func abiResultFree(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ResultHandle>.fromOpaque(UnsafeRawPointer(result)).release()
}
