import SkrrRuntime
import SkrrSupport

/// The discrepancy D of a multi-encoder pipeline, measured on what its denoiser reads (issue 16):
/// `f(c) = (context_embedder(prompt_embeds), text_embedder(pooled_prompt_embeds))` of the joint
/// conditioning (`JointConditioning`), each projection the identity when the denoiser gives none.
/// `D = MSE_prompt(C) + MSE_pooled(C) + MSE_prompt(∅) + MSE_pooled(∅)`: the single-encoder D's
/// terms (docs/architecture.md §4), taken over every position SD3 and FLUX consume (they pass no
/// mask) and every feature. A joint search scores every candidate, whichever encoder it prunes,
/// by this one number, so a budget spent on CLIP and one spent on T5 are compared on the same
/// scale: the denoiser's input.
public struct JointDiscrepancy: Sendable {
    public let context: Projection?
    public let pooled: Projection?

    public init(context: Projection?, pooled: Projection?) {
        self.context = context
        self.pooled = pooled
    }

    /// What the denoiser reads: projected `prompt_embeds` rows and projected pooled vectors.
    public struct Features: Sendable {
        public var prompt: [Float]
        public var pooled: [Float]
    }

    public func features(_ arrays: JointConditioning.Arrays) throws -> Features {
        let prompt = try context?.apply(arrays.promptEmbeds, width: arrays.width) ?? arrays.promptEmbeds
        let pooledOut = try pooled?.apply(arrays.pooled, width: arrays.pooledWidth) ?? arrays.pooled
        return Features(prompt: prompt, pooled: pooledOut)
    }

    /// D of a candidate's features against the dense model's: `calibration` over the calibration
    /// prompts (all batches pooled into one mean per part) plus `null` for the empty prompt.
    public static func discrepancy(calibration candidate: [Features], dense: [Features],
                                   null: (candidate: Features, dense: Features)?) throws -> Double {
        guard candidate.count == dense.count else {
            throw SkrrError(key: "joint D", "\(candidate.count) candidate batches against \(dense.count) dense ones")
        }
        var d = 0.0
        func pairs(_ part: KeyPath<Features, [Float]>, _ candidates: [Features], _ references: [Features]) throws
            -> [(actual: [Float], reference: [Float])] {
            try zip(candidates, references).map { a, b in
                guard a[keyPath: part].count == b[keyPath: part].count else {
                    throw SkrrError(key: "joint D", "compares \(a[keyPath: part].count) values with \(b[keyPath: part].count)")
                }
                return (a[keyPath: part], b[keyPath: part])
            }
        }
        for part in [\Features.prompt, \Features.pooled] {
            d += meanSquaredError(try pairs(part, candidate, dense))
            if let null { d += meanSquaredError(try pairs(part, [null.candidate], [null.dense])) }
        }
        return d
    }
}
