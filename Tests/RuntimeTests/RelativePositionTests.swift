import Foundation
import SkrrRuntime
import SkrrTestSupport
import Testing

/// Integer bucket tables against tables dumped from transformers (scripts/make_bucket_reference.py).
@Suite struct RelativePositionTests {
    struct Table: Decodable {
        var num_buckets: Int
        var max_distance: Int
        var first_relative_position: Int
        var buckets: [Int]
    }

    @Test func bucketsMatchTransformersForManyConfigurations() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("relative-buckets.json")))
        let tables = try JSONDecoder().decode([Table].self, from: data)
        #expect(tables.count >= 8)
        for table in tables {
            for (i, expected) in table.buckets.enumerated() {
                let relative = table.first_relative_position + i
                let actual = RelativePosition.bucket(relative: relative, numBuckets: table.num_buckets, maxDistance: table.max_distance)
                #expect(actual == expected, "buckets \(table.num_buckets), distance \(table.max_distance), relative \(relative)")
                if actual != expected { return }
            }
        }
    }

    @Test func tableIsIndexedQueryByKey() {
        let table = RelativePosition.bucketTable(length: 3, numBuckets: 8, maxDistance: 16)
        // key after query → upper half of the buckets.
        #expect(table[0 * 3 + 1] == Int32(RelativePosition.bucket(relative: 1, numBuckets: 8, maxDistance: 16)))
        #expect(table[2 * 3 + 0] == Int32(RelativePosition.bucket(relative: -2, numBuckets: 8, maxDistance: 16)))
        #expect(table[0 * 3 + 1] >= 4 && table[2 * 3 + 0] < 4)
    }
}
