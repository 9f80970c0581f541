import SkrrFrontend
import SkrrSupport

extension FuzzTargets {
    /// The safetensors header reader on a whole file image. Inputs are whole files so the checks
    /// that compare the header with the data section (tiling, truncation) are reached too.
    static let safeTensors = FuzzTarget(
        name: "safetensors", summary: "safetensors header + data layout (SafeTensorsFile)", maxLength: 16_384
    ) { input, check in
        let entries = try input.withUnsafeBytes { try SafeTensorsFile.validate(image: $0, path: "fuzz.safetensors") }
        for entry in entries {
            // What the loader promises its callers: every range inside the file, sized by dtype × shape.
            try check(entry.byteRange.lowerBound >= 8 && entry.byteRange.upperBound <= input.count,
                             "tensor '\(entry.name)' range \(entry.byteRange) outside a \(input.count)-byte file")
            try check(entry.byteRange.count == entry.elementCount * entry.dtype.byteSize,
                             "tensor '\(entry.name)' has \(entry.byteRange.count) bytes for \(entry.elementCount) elements")
        }
    }
}
