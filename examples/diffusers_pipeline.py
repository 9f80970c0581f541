"""Feeds embeddings from a skrr encoder into a real diffusers PixArt-Σ pipeline and writes the image.

    swift build -c release --product skrr && pip install ./python diffusers torch
    .build/release/skrrc fixtures/t5-trained --pipeline pixart-sigma -O prune --sparsity 0.3 -o t5.skrr
    python examples/diffusers_pipeline.py --encoder t5.skrr --out image.png

The pipeline is built from diffusers' own classes (PixArtTransformer2DModel, AutoencoderKL,
DPMSolverMultistepScheduler, PixArtSigmaPipeline) with small configs and random weights, no hub
download; the transformer's caption_projection takes the encoder's width. It proves the
plumbing (a pruned encoder's embeddings, padding and mask go where the pipeline reads them), not
image quality: the denoiser is untrained.
"""
import argparse
import time

import torch
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, PixArtSigmaPipeline, PixArtTransformer2DModel

import skrr
import skrr.diffusers


def small_pipeline(caption_width, seed):
    torch.manual_seed(seed)
    transformer = PixArtTransformer2DModel(
        sample_size=32, num_layers=2, patch_size=2, attention_head_dim=16, num_attention_heads=2, in_channels=4,
        out_channels=8, cross_attention_dim=32, caption_channels=caption_width, norm_type="ada_norm_single",
        use_additional_conditions=False)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64),
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), layers_per_block=1, norm_num_groups=32,
                        sample_size=64)
    return PixArtSigmaPipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer,
                               scheduler=DPMSolverMultistepScheduler())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", required=True, help="a .skrr runtime file (or model folder) of a T5 encoder")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--prompt", default="a red cube on a glass table, studio lighting")
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    encoder = skrr.Encoder(args.encoder, pipeline="pixart-sigma")
    started = time.perf_counter()
    kwargs = skrr.diffusers.as_torch(skrr.diffusers.pixart_sigma(encoder, args.prompt, args.negative_prompt))
    encoded = time.perf_counter() - started
    pipe = small_pipeline(encoder.width, args.seed)
    image = pipe(**kwargs, num_inference_steps=args.steps, height=64, width=64, use_resolution_binning=False,
                 generator=torch.Generator().manual_seed(args.seed)).images[0]
    image.save(args.out)
    shapes = ", ".join("%s %s" % (name, tuple(t.shape)) for name, t in kwargs.items() if t is not None)
    print("encoded in %.3f s (%s); wrote %s (%dx%d)" % (encoded, shapes, args.out, image.width, image.height))


if __name__ == "__main__":
    main()
