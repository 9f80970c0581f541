#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// T5's bidirectional relative-position buckets as an integer table. Half the buckets serve each
/// direction (`+num_buckets/2` when the key is after the query); distances below `max_exact`
/// get their own bucket; larger ones are spaced logarithmically up to `max_distance` and clamped.
///
/// The logarithmic part is evaluated once per distance, in float32 exactly as transformers does
/// (`log(n / max_exact) / log(max_distance / max_exact) * (buckets - max_exact)`, truncated), so
/// the table agrees with torch even where the value lands on an integer; tests compare it with
/// tables dumped from transformers for many configurations (fixtures/relative-buckets.json).
public enum RelativePosition {
    /// Bucket of `relative = key − query`.
    public static func bucket(relative: Int, numBuckets: Int, maxDistance: Int) -> Int {
        let half = numBuckets / 2
        var bucket = relative > 0 ? half : 0
        let n = abs(relative)
        let maxExact = half / 2
        if n < maxExact { return bucket + n }
        let ratio = logf(Float(n) / Float(maxExact)) / Float(log(Double(maxDistance) / Double(maxExact)))
        let large = maxExact + Int(ratio * Float(half - maxExact))
        bucket += min(large, half - 1)
        return bucket
    }

    /// `[length × length]` bucket indices for queries (rows) against keys (columns).
    public static func bucketTable(length: Int, numBuckets: Int, maxDistance: Int) -> [Int32] {
        // Every entry depends only on key − query: compute the 2L−1 distinct values once.
        let distinct = (-(length - 1)...(length - 1)).map {
            Int32(bucket(relative: $0, numBuckets: numBuckets, maxDistance: maxDistance))
        }
        var table = [Int32](repeating: 0, count: length * length)
        for q in 0..<length {
            for k in 0..<length { table[q * length + k] = distinct[k - q + length - 1] }
        }
        return table
    }
}
