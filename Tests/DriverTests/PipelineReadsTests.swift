import SkrrDriver
import SkrrEvaluation
import SkrrRuntime
import Testing

/// The one table of what each pipeline reads from each encoder (diffusers' `encode_prompt`):
/// D and a runtime file's default output both come from it.
@Suite struct PipelineReadsTests {
    func consumed(_ pipeline: PipelineKind, clip: Bool, projected: Bool) -> ConsumedOutputs {
        PipelineReads.of(pipeline, clip: clip).consumed(projected: projected)
    }

    @Test func discrepancyComparesWhatEachPipelineReads() {
        // T5 (and any non-CLIP encoder): the last hidden states, whatever the pipeline.
        for pipeline in PipelineKind.allCases {
            #expect(consumed(pipeline, clip: false, projected: false) == ConsumedOutputs(hidden: .last, pooled: false))
        }
        // SDXL and SD3: CLIP's penultimate layer, plus text_embeds when the tower has a projection.
        #expect(consumed(.sdxl, clip: true, projected: false) == ConsumedOutputs(hidden: .penultimate, pooled: false))
        #expect(consumed(.sdxl, clip: true, projected: true) == ConsumedOutputs(hidden: .penultimate, pooled: true))
        #expect(consumed(.sd3, clip: true, projected: true) == ConsumedOutputs(hidden: .penultimate, pooled: true))
        // FLUX: CLIP-L's pooled output only.
        #expect(consumed(.flux, clip: true, projected: false) == ConsumedOutputs(hidden: .none, pooled: true))
        #expect(consumed(.generic, clip: true, projected: true) == ConsumedOutputs(hidden: .last, pooled: false))
    }

    @Test func runtimeFilesDefaultToWhatThePipelineReads() {
        #expect(PipelineReads.of(.sd3, clip: true).defaultOutput == .layer(-2))
        #expect(PipelineReads.of(.sdxl, clip: true).defaultOutput == .layer(-2))
        #expect(PipelineReads.of(.flux, clip: true).defaultOutput == .pooled)
        #expect(PipelineReads.of(.flux, clip: false).defaultOutput == .hidden)
        #expect(PipelineReads.of(.pixartSigma, clip: false).defaultOutput == .hidden)
        #expect(PipelineReads.of(.generic, clip: true).defaultOutput == .hidden)
    }
}
