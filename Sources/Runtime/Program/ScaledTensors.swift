/// Which tensors of a program may be stored int8 (`--weight-dtype int8`): the matrices of the
/// sub-blocks' linear layers and the token embedding table, 97–99 % of an encoder's bytes. Norm
/// gains, biases, position tables and the heads (pooler, projection) stay float: they are small,
/// and a head's error would reach the output unattenuated. The writer quantizes exactly these;
/// the loader refuses an int8 tensor anywhere else.
extension EncoderProgram {
    public var int8CapableTensors: Set<Int> {
        var capable: Set<Int> = [embeddings.token]
        for slot in slots {
            switch slot {
            case .skip: break
            case let .attention(w, _): capable.formUnion([w.q.weight, w.k.weight, w.v.weight, w.o.weight])
            case let .ffn(w, _): capable.formUnion([w.wi.weight, w.wo.weight] + (w.wiGate.map { [$0.weight] } ?? []))
            }
        }
        return capable.subtracting(floatOnlyTensors)
    }

    /// Tensors some role needs in float, whatever else reads them.
    var floatOnlyTensors: Set<Int> {
        var float: Set<Int> = []
        func norm(_ n: NormWeights?) {
            guard let n else { return }
            float.insert(n.weight)
            if let bias = n.bias { float.insert(bias) }
        }
        func bias(_ l: LinearWeights) { if let b = l.bias { float.insert(b) } }
        for t in [embeddings.position, embeddings.tokenType, sharedPositionBias, projection] { if let t { float.insert(t) } }
        norm(embeddings.norm)
        norm(finalNorm)
        for slot in slots {
            switch slot {
            case .skip: break
            case let .attention(w, _):
                norm(w.norm)
                [w.q, w.k, w.v, w.o].forEach(bias)
                if let r = w.relativeBias { float.insert(r) }
            case let .ffn(w, _):
                norm(w.norm)
                ([w.wi, w.wo] + (w.wiGate.map { [$0] } ?? [])).forEach(bias)
            }
        }
        if case let .firstTokenTanh(dense) = pooling {
            float.insert(dense.weight)
            bias(dense)
        }
        return float
    }
}
