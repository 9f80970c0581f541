import Foundation
import SkrrSupport
import Testing

@testable import SkrrFrontend

/// A sharded checkpoint in a temporary directory: shard files plus an index written from
/// `weightMap` (pairs, so tests can write orders, duplicates and odd values as they please).
private struct ShardedFixture {
    let dir: SafeTensorsTempDir
    let indexPath: String

    static let shard1 = [STTensor("enc.a", .f32, [2], seed: 1), STTensor("enc.b", .f16, [3], seed: 2)]
    static let shard2 = [STTensor("enc.c", .bf16, [2, 2], seed: 3), STTensor("enc.d", .f32, [1], seed: 4)]

    static let validMap: [(String, String)] = [
        ("enc.c", "model-00002-of-00002.safetensors"),
        ("enc.a", "model-00001-of-00002.safetensors"),
        ("enc.b", "model-00001-of-00002.safetensors"),
        ("enc.d", "model-00002-of-00002.safetensors"),
    ]

    init(
        shards: [String: [STTensor]] = [
            "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2,
        ],
        weightMap: [(String, String)] = validMap,
        indexText: String? = nil
    ) throws {
        dir = try SafeTensorsTempDir()
        for (name, tensors) in shards { try dir.write(name, SafeTensorsTestWriter.image(tensors)) }
        let entries = weightMap.map { "\(SafeTensorsTestWriter.quote($0.0)): \(SafeTensorsTestWriter.quote($0.1))" }
        let text =
            indexText
            ?? "{\n  \"metadata\": {\"total_size\": 123456789},\n  \"weight_map\": {\n    "
            + entries.joined(separator: ",\n    ") + "\n  }\n}\n"
        indexPath = try dir.write("model.safetensors.index.json", text: text)
    }

    func load() throws -> CheckpointSet { try CheckpointSet(path: indexPath) }
}

@Suite struct SafeTensorsCheckpointSetTests {
    @Test func singleFile() throws {
        let dir = try SafeTensorsTempDir()
        let tensors = [STTensor("w", .f32, [2, 2]), STTensor("b", .f32, [2], seed: 9)]
        let path = try dir.write("model.safetensors", SafeTensorsTestWriter.image(tensors))
        let set = try CheckpointSet(path: path)
        #expect(set.path == path)
        #expect(!set.isSharded)
        #expect(set.files.count == 1)
        #expect(set.files[0].path == path)
        #expect(set.tensorNames == ["b", "w"])
        let found = try #require(set.locate("b"))
        #expect(found.fileIndex == 0)
        #expect(Array(set.files[0].data(of: found.entry)) == tensors[1].data)
        #expect(set.locate("nope") == nil)
    }

    @Test func singleFileErrorsNameTheFile() throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("model.safetensors", [1, 2, 3])
        let error = #expect(throws: SkrrError.self) { try CheckpointSet(path: path) }
        #expect(error?.file == path)
        #expect(error?.message.contains("file is 3 bytes, too short") == true)
    }

    @Test func shardedLocatesTensorsInTheRightFile() throws {
        let fixture = try ShardedFixture()
        let set = try fixture.load()
        #expect(set.isSharded)
        #expect(set.path == fixture.indexPath)
        #expect(
            set.files.map { FileSystem.basename($0.path) } == [
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            ])
        #expect(set.files.map(\.path) == set.files.map { FileSystem.join(fixture.dir.path, FileSystem.basename($0.path)) })
        #expect(set.tensorNames == ["enc.a", "enc.b", "enc.c", "enc.d"])
        for (name, fileIndex, tensor) in [
            ("enc.a", 0, ShardedFixture.shard1[0]), ("enc.b", 0, ShardedFixture.shard1[1]),
            ("enc.c", 1, ShardedFixture.shard2[0]), ("enc.d", 1, ShardedFixture.shard2[1]),
        ] {
            let found = try #require(set.locate(name))
            #expect(found.fileIndex == fileIndex)
            #expect(found.entry.name == name)
            #expect(found.entry.shape == tensor.shape)
            #expect(Array(set.files[fileIndex].data(of: found.entry)) == tensor.data)
        }
        #expect(set.locate("enc.e") == nil)
    }

    @Test func extraShardFilesInTheDirectoryAreIgnored() throws {
        let fixture = try ShardedFixture()
        try fixture.dir.write("unrelated.safetensors", [0])
        #expect(try fixture.load().files.count == 2)
    }

    // MARK: Errors

    private func expectIndexError(
        _ fixture: ShardedFixture, file: String? = nil, key: String?, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> SkrrError? {
        let error = #expect(throws: SkrrError.self, sourceLocation: sourceLocation) { try fixture.load() }
        guard let error else { return nil }
        #expect(error.file == (file ?? fixture.indexPath), sourceLocation: sourceLocation)
        #expect(error.key == key, sourceLocation: sourceLocation)
        #expect(
            error.message.contains(message), "message \"\(error.message)\" lacks \"\(message)\"",
            sourceLocation: sourceLocation)
        return error
    }

    @Test func missingShard() throws {
        let fixture = try ShardedFixture(shards: ["model-00001-of-00002.safetensors": ShardedFixture.shard1])
        _ = expectIndexError(
            fixture, key: "model-00002-of-00002.safetensors",
            "shard 'model-00002-of-00002.safetensors' does not exist (looked for \(fixture.dir.path)/model-00002-of-00002.safetensors); it holds tensor 'enc.c'"
        )
    }

    @Test func tensorInTheWrongShard() throws {
        var map = ShardedFixture.validMap
        map[1] = ("enc.a", "model-00002-of-00002.safetensors")
        let fixture = try ShardedFixture(weightMap: map)
        _ = expectIndexError(
            fixture, key: "enc.a",
            "tensor 'enc.a' is mapped to shard 'model-00002-of-00002.safetensors' but found in shard 'model-00001-of-00002.safetensors'"
        )
    }

    @Test func mappedTensorInNoShard() throws {
        let fixture = try ShardedFixture(
            weightMap: ShardedFixture.validMap + [("enc.ghost", "model-00001-of-00002.safetensors")])
        _ = expectIndexError(
            fixture, key: "enc.ghost",
            "tensor 'enc.ghost' is mapped to shard 'model-00001-of-00002.safetensors' but is absent from it "
                + "(and from every other shard the index lists)")
    }

    @Test func tensorNotInTheMap() throws {
        let fixture = try ShardedFixture(weightMap: ShardedFixture.validMap.filter { $0.0 != "enc.d" })
        _ = expectIndexError(
            fixture, key: "enc.d",
            "tensor 'enc.d' is in shard 'model-00002-of-00002.safetensors' but not listed in weight_map")
    }

    @Test func sameTensorInTwoShards() throws {
        let fixture = try ShardedFixture(shards: [
            "model-00001-of-00002.safetensors": ShardedFixture.shard1,
            "model-00002-of-00002.safetensors": ShardedFixture.shard2 + [STTensor("enc.a", .f32, [2])],
        ])
        _ = expectIndexError(
            fixture, key: "enc.a",
            "tensor 'enc.a' is in two shards: 'model-00001-of-00002.safetensors' and 'model-00002-of-00002.safetensors'"
        )
    }

    @Test func severalProblemsTravelTogether() throws {
        var map = ShardedFixture.validMap.filter { $0.0 != "enc.d" }
        map[1] = ("enc.a", "model-00002-of-00002.safetensors")
        let fixture = try ShardedFixture(weightMap: map)
        let error = expectIndexError(fixture, key: "enc.a", "tensor 'enc.a' is mapped to shard 'model-00002")
        #expect(error?.notes == [
            "tensor 'enc.d' is in shard 'model-00002-of-00002.safetensors' but not listed in weight_map"
        ])
    }

    @Test func missingWeightMap() throws {
        let fixture = try ShardedFixture(indexText: "{\"metadata\": {}}")
        _ = expectIndexError(fixture, key: "weight_map", "missing 'weight_map'")
    }

    @Test(arguments: ["[]", "\"model.safetensors\"", "null", "3"])
    func weightMapOfTheWrongType(value: String) throws {
        let fixture = try ShardedFixture(indexText: "{\"weight_map\": \(value)}")
        _ = expectIndexError(fixture, key: "weight_map", "expected an object of tensor name to shard file name, got")
    }

    @Test func emptyWeightMap() throws {
        let fixture = try ShardedFixture(indexText: "{\"weight_map\": {}}")
        _ = expectIndexError(fixture, key: "weight_map", "is empty; expected at least one tensor")
    }

    @Test func weightMapValueNotAString() throws {
        let fixture = try ShardedFixture(indexText: "{\"weight_map\": {\"enc.a\": 1}}")
        _ = expectIndexError(fixture, key: "enc.a", "weight_map value is a number, expected a shard file name string")
    }

    @Test func metadataNotAnObject() throws {
        let fixture = try ShardedFixture(indexText: "{\"metadata\": [], \"weight_map\": {}}")
        _ = expectIndexError(fixture, key: "metadata", "expected an object, got an array")
    }

    @Test func indexNotAnObject() throws {
        let fixture = try ShardedFixture(indexText: "[]")
        _ = expectIndexError(fixture, key: nil, "index must be a JSON object, got an array")
    }

    @Test func indexNotJSON() throws {
        let fixture = try ShardedFixture(indexText: "{\"weight_map\": {\"a\": \"x\",}}")
        _ = expectIndexError(fixture, key: nil, "invalid JSON at line 1")
    }

    @Test func duplicateTensorInIndex() throws {
        let fixture = try ShardedFixture(
            weightMap: ShardedFixture.validMap + [("enc.a", "model-00001-of-00002.safetensors")])
        _ = expectIndexError(fixture, key: nil, "duplicate key \"enc.a\"")
    }

    @Test(arguments: [
        ("../model-00001-of-00002.safetensors", "leads out of the index's directory with '..'"),
        ("..", "leads out of the index's directory with '..'"),
        ("/etc/model.safetensors", "is an absolute path"),
        ("sub/model.safetensors", "contains a directory separator"),
        ("", "is empty"),
        ("pytorch_model-00001-of-00002.bin", "is not a .safetensors file (only safetensors checkpoints can be read)"),
    ])
    func shardNameMustBePlain(shard: String, problem: String) throws {
        var map = ShardedFixture.validMap
        map[3] = ("enc.d", shard)
        let fixture = try ShardedFixture(weightMap: map)
        _ = expectIndexError(
            fixture, key: "enc.d",
            "shard name '\(shard)' \(problem); expected a plain file name in the index's directory")
    }

    @Test func brokenShardIsBlamedOnTheShard() throws {
        let fixture = try ShardedFixture()
        let shardPath = try fixture.dir.write("model-00002-of-00002.safetensors", SafeTensorsTestWriter.withHeaderLength(
            SafeTensorsTestWriter.image(ShardedFixture.shard2), 0))
        _ = expectIndexError(fixture, file: shardPath, key: nil, "header length is 0")
    }

    @Test(arguments: ["model.bin", "model.json", "weights"])
    func pathOfTheWrongKind(name: String) throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write(name, [0])
        let error = #expect(throws: SkrrError.self) { try CheckpointSet(path: path) }
        #expect(error?.file == path)
        #expect(
            error?.message.contains("expected a .safetensors file or a .safetensors.index.json index") == true)
    }
}
