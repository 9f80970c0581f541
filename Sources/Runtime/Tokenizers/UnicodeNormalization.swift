/// NFD and NFC exactly as tokenizers' `NFD` / `NFC` / `BertNormalizer` compute them (Rust
/// unicode-normalization crate), from the tables in TokenizerUnicodeTables.swift.
///
/// Why not Foundation or the standard library: on Linux with Swift 6.3, Foundation's
/// `precomposedStringWithCanonicalMapping` composes a supplementary-plane starter as if it were its
/// low 16 bits ("\u{20041}\u{301}" becomes "\u{C1}", "\u{E0041}\u{323}" becomes "\u{1EA0}"), and
/// neither Foundation's `decomposedStringWithCanonicalMapping` nor the standard library's internal
/// normaliser reorders the marks an expansion produces ("\u{F72}\u{F73}" must become F71 F72 F72).
/// Their Unicode version (17) also differs from the crate's (U+11938 and U+16D68 do not
/// decompose there, U+1DFA has class 0 there).
enum TokenizerNormalization {
    private struct Tables: Sendable {
        /// Full canonical decomposition (recursively expanded, not yet reordered).
        var decomposition: [UInt32: [Unicode.Scalar]] = [:]
        /// (first << 32 | second) -> primary composite.
        var composition: [UInt64: Unicode.Scalar] = [:]
        var classLows: [UInt32] = []
        var classHighs: [UInt32] = []
        var classValues: [UInt8] = []
    }

    private static let tables: Tables = {
        var tables = Tables()
        var oneStep: [UInt32: [UInt32]] = [:]
        for item in TokenizerUnicodeTables.decompositions.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let composable = item.contains("=")
            let parts = item.split(whereSeparator: { $0 == "=" || $0 == ":" })
            let code = UInt32(parts[0], radix: 16)!
            let mapping = parts[1].split(separator: ".").map { UInt32($0, radix: 16)! }
            oneStep[code] = mapping
            if composable {
                tables.composition[UInt64(mapping[0]) << 32 | UInt64(mapping[1])] = Unicode.Scalar(code)!
            }
        }
        func expand(_ code: UInt32) -> [Unicode.Scalar] {
            guard let mapping = oneStep[code] else { return [Unicode.Scalar(code)!] }
            return mapping.flatMap(expand)
        }
        for code in oneStep.keys { tables.decomposition[code] = expand(code) }
        for item in TokenizerUnicodeTables.combiningClasses.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = item.split(separator: "=")
            let bounds = parts[0].split(separator: "-").map { UInt32($0, radix: 16)! }
            tables.classLows.append(bounds[0])
            tables.classHighs.append(bounds.count > 1 ? bounds[1] : bounds[0])
            tables.classValues.append(UInt8(parts[1], radix: 16)!)
        }
        return tables
    }()

    static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        let v = scalar.value
        if v < 0x300 { return 0 }
        let t = tables
        var lo = 0, hi = t.classLows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if t.classLows[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && v <= t.classHighs[lo - 1] ? t.classValues[lo - 1] : 0
    }

    // Hangul syllables are decomposed and composed algorithmically.
    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    private static let nCount = vCount * tCount, sCount = lCount * nCount

    /// Canonical decomposition followed by canonical ordering (stable sort of each run of marks).
    static func nfd(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy({ $0.value < 0xC0 }) { return text }
        let decomposition = tables.decomposition
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count + text.count / 2)
        for scalar in text {
            let v = scalar.value
            if v >= sBase && v < sBase + sCount {
                let index = v - sBase
                out.append(Unicode.Scalar(lBase + index / nCount)!)
                out.append(Unicode.Scalar(vBase + (index % nCount) / tCount)!)
                if index % tCount != 0 { out.append(Unicode.Scalar(tBase + index % tCount)!) }
            } else if let mapping = decomposition[v] {
                out.append(contentsOf: mapping)
            } else {
                out.append(scalar)
            }
        }
        var classes = out.map(combiningClass)
        var i = 0
        while i < out.count {
            guard classes[i] != 0 else {
                i += 1
                continue
            }
            var j = i + 1
            while j < out.count && classes[j] != 0 { j += 1 }
            if j - i > 1 {
                // Insertion sort: stable, and runs of marks are short.
                for k in (i + 1)..<j {
                    var m = k
                    while m > i && classes[m - 1] > classes[m] {
                        out.swapAt(m - 1, m)
                        classes.swapAt(m - 1, m)
                        m -= 1
                    }
                }
            }
            i = j
        }
        return out
    }

    private static func compose(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Unicode.Scalar? {
        let x = a.value, y = b.value
        if x >= lBase && x < lBase + lCount && y >= vBase && y < vBase + vCount {
            return Unicode.Scalar(sBase + ((x - lBase) * vCount + (y - vBase)) * tCount)
        }
        if x >= sBase && x < sBase + sCount && (x - sBase) % tCount == 0 && y > tBase && y < tBase + tCount {
            return Unicode.Scalar(x + (y - tBase))
        }
        return tables.composition[UInt64(x) << 32 | UInt64(y)]
    }

    /// NFD, then canonical composition (the crate's `Recompositions`).
    static func nfc(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if text.allSatisfy({ $0.value < 0x300 }) { return text }
        let decomposed = nfd(text)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(decomposed.count)
        var composee: Unicode.Scalar?
        var pending: [Unicode.Scalar] = []
        var lastClass: UInt8?
        for scalar in decomposed {
            let cls = combiningClass(scalar)
            guard let starter = composee else {
                if cls != 0 {
                    out.append(scalar)
                } else {
                    composee = scalar
                }
                continue
            }
            if let last = lastClass {
                if last >= cls {
                    // Blocked from the starter.
                    if cls == 0 {
                        out.append(starter)
                        out.append(contentsOf: pending)
                        pending.removeAll()
                        composee = scalar
                        lastClass = nil
                    } else {
                        pending.append(scalar)
                        lastClass = cls
                    }
                    continue
                }
                if let composed = compose(starter, scalar) {
                    composee = composed
                    continue
                }
                pending.append(scalar)
                lastClass = cls
            } else {
                if let composed = compose(starter, scalar) {
                    composee = composed
                    continue
                }
                if cls == 0 {
                    out.append(starter)
                    composee = scalar
                    continue
                }
                pending.append(scalar)
                lastClass = cls
            }
        }
        if let starter = composee { out.append(starter) }
        out.append(contentsOf: pending)
        return out
    }
}
