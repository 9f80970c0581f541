#!/usr/bin/env python3
"""Generate two tiny but COMPLETE diffusers pipelines + diffusers' own encode_prompt outputs.

    python3 scripts/make_pipeline_fixtures.py            # rewrites fixtures/sd3-full/ and fixtures/flux-full/
    python3 scripts/make_pipeline_fixtures.py --out DIR  # somewhere else (e.g. to diff against the committed copy)

Written with diffusers 0.42.1, transformers 5.24.0, torch 2.13.0 (CPU), safetensors 0.8.0 and
Debian spm_train 0.1.97; no network (HF_HUB_OFFLINE=1: nothing is fetched from a hub).  Every
weight is a seeded random number and both tokenizers are trained here from the PartiPrompts
calibration prompts with the helpers of scripts/make_fixtures.py, so running the script twice
gives byte-identical files (single-threaded torch, deterministic algorithms, per-model seeds
101..109, reference files written by scripts/safetensors_writer.py with sorted metadata).

fixtures/sd3-full/   StableDiffusion3Pipeline, as `StableDiffusion3Pipeline.save_pretrained` writes it:
  text_encoder/  + tokenizer/    CLIP-L-like CLIPTextModelWithProjection (hidden 32, 2 layers, 2 heads,
                                 FFN 56, quick_gelu, projection 32); CLIP BPE, pad = <|endoftext|>
  text_encoder_2/ + tokenizer_2/ CLIP-G-like CLIPTextModelWithProjection (hidden 48, 3 layers, 3 heads,
                                 FFN 88, gelu, projection 48); the same BPE files, but pad_token "!"
                                 like the real SD3 tokenizer_2
  text_encoder_3/ + tokenizer_3/ T5EncoderModel v1.1 gated-gelu (d_model 96, 4 heads x d_kv 16, FFN 136,
                                 2 layers, 8 buckets, max_distance 20); SentencePiece T5 tokenizer
  transformer/  SD3Transformer2DModel (1 joint block, 2 heads x 8, joint_attention_dim 96,
                caption_projection_dim 16, pooled_projection_dim 80 = 32 + 48)
  vae/          AutoencoderKL (one block of 8 channels, 4 latent channels); scheduler/ FlowMatchEuler
  reference.safetensors  encode_prompt(PROMPTS, CFG with negative "" x 2, max_sequence_length 256):
      prompt_embeds / negative_prompt_embeds [2, 77 + 256, 96], pooled_prompt_embeds /
      negative_pooled_prompt_embeds [2, 80], context / negative_context [2, 333, 16]
      (= transformer.context_embedder(...)), pooled_projected / negative_pooled_projected [2, 16]
      (= transformer.time_text_embed.text_embedder(...)), and i64 clip_l_input_ids [2, 77],
      clip_g_input_ids [2, 77], t5_input_ids [2, 256].

fixtures/flux-full/  FluxPipeline:
  text_encoder/  + tokenizer/    CLIPTextModel (hidden 32, 2 layers, 2 heads, FFN 56, quick_gelu); CLIP BPE
  text_encoder_2/ + tokenizer_2/ T5EncoderModel v1.1 gated-gelu (d_model 64, 4 heads x d_kv 12, FFN 104,
                                 2 layers, 8 buckets, max_distance 20); SentencePiece T5 tokenizer
  transformer/  FluxTransformer2DModel (1 double + 1 single block, 2 heads x 8, joint_attention_dim 64,
                pooled_projection_dim 32, no guidance embedding, axes_dims_rope [2, 2, 4])
  vae/          AutoencoderKL (one block of 8 channels, 1 latent channel); scheduler/ FlowMatchEuler
  reference.safetensors  encode_prompt(PROMPTS, max_sequence_length 512) and the same for ["", ""]:
      prompt_embeds / negative_prompt_embeds [2, 512, 64], pooled_prompt_embeds /
      negative_pooled_prompt_embeds [2, 32], text_ids [512, 3], context / negative_context
      [2, 512, 16], pooled_projected / negative_pooled_projected [2, 16], i64 clip_input_ids [2, 77],
      t5_input_ids [2, 512].

PROMPTS = ["a red cube on a glass table", LONG_PROMPT]; the long prompt is longer than 77 CLIP
tokens (CLIP truncation) and longer than 256 T5 tokens (SD3's T5 truncation) but shorter than 512.
It starts with "Epic!": "!" is SD3 tokenizer_2's pad token and thus a special added token there,
so the same text gives "!</w>" in tokenizer/ but the bare "!" id in tokenizer_2/ (as with the real
SD3 checkpoints); clip_l_input_ids and clip_g_input_ids differ in exactly that position of row 1.
The weights are what diffusers / transformers save_pretrained write (checked to be byte-stable);
config.json and model_index.json are as diffusers writes them.  transformers 5 does not write the
vocabulary files, so vocab.json + merges.txt / spiece.model are copied next to tokenizer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import make_fixtures as mf  # noqa: E402  (sets the transformers/tokenizers env defaults, imports torch)
import tokenizer_corpus as tc  # noqa: E402
from safetensors_writer import write_safetensors  # noqa: E402

import diffusers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import (  # noqa: E402
    AutoencoderKL,
    FlowMatchEulerDiscreteScheduler,
    FluxPipeline,
    FluxTransformer2DModel,
    SD3Transformer2DModel,
    StableDiffusion3Pipeline,
)
from transformers import (  # noqa: E402
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
)

try:
    diffusers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.set_verbosity_error()
except AttributeError:  # pragma: no cover
    pass

REPO = os.path.dirname(SCRIPTS)
GENERATOR = "scripts/make_pipeline_fixtures.py"
LONG_PROMPT = (
    "Epic! A cinematic wide-angle photograph of an old stone lighthouse on a rocky cliff at dusk, "
    "waves crashing against the dark rocks below, warm orange light glowing from the lantern room, "
    "a narrow winding path lined with wild purple heather leading up to a red wooden door, "
    "seagulls circling in a dramatic cloudy sky streaked with pink and gold, a small fishing boat "
    "with a green hull anchored in the calm bay, soft volumetric fog, sharp focus, "
    "shot on a full-frame camera with a 35mm lens"
)
PROMPTS = ["a red cube on a glass table", LONG_PROMPT]
NEGATIVE = ["", ""]
CLIP_LEN = 77
SD3_T5_LEN = 256
FLUX_T5_LEN = 512
FOLDERS = ["sd3-full", "flux-full"]
MAX_FOLDER_BYTES = 2_500_000

# One seed per model, distinct from make_fixtures.SEEDS (1101..3101).
SEEDS = {
    "sd3/text_encoder": 101, "sd3/text_encoder_2": 102, "sd3/text_encoder_3": 103,
    "sd3/transformer": 104, "sd3/vae": 105,
    "flux/text_encoder": 106, "flux/text_encoder_2": 107, "flux/transformer": 108, "flux/vae": 109,
}
assert not set(SEEDS.values()) & set(mf.SEEDS.values())


# ---------------------------------------------------------------------------
# configs and weights
# ---------------------------------------------------------------------------

def clip_config(clip_tok: dict, hidden: int, layers: int, heads: int, ffn: int, act: str,
                projection_dim: int | None = None) -> CLIPTextConfig:
    kw = dict(vocab_size=clip_tok["vocab_size"], hidden_size=hidden, intermediate_size=ffn,
              num_hidden_layers=layers, num_attention_heads=heads, max_position_embeddings=CLIP_LEN,
              hidden_act=act, layer_norm_eps=1e-5, attention_dropout=0.0, bos_token_id=clip_tok["bos"],
              eos_token_id=clip_tok["eos"],
              # As in the released CLIP-L / CLIP-G configs, pad_token_id (1) is not the id the
              # tokenizer pads with (its end token, or "!" for SD3's CLIP-G): transformers' CLIP
              # never reads it, and an importer that pads by it gets SD3's padded rows wrong.
              pad_token_id=1)
    if projection_dim is not None:
        kw["projection_dim"] = projection_dim
    return CLIPTextConfig(**kw)


def t5_config(t5_tok: dict, d_model: int, heads: int, d_kv: int, d_ff: int) -> T5Config:
    return T5Config(feed_forward_proj="gated-gelu", d_model=d_model, num_heads=heads, d_kv=d_kv, d_ff=d_ff,
                    num_layers=2, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                    **mf.t5_common(t5_tok["vocab_size"]))


@torch.no_grad()
def randomize_diffusers_(model: torch.nn.Module, seed: int) -> None:
    """mf.randomize_'s distributions for diffusers models (convolutions included): norm gains
    U(0.5, 1.5), biases N(0, 0.2), every weight of rank >= 2 N(0, 1/fan_in) with
    fan_in = in_channels x kernel area.  Buffers (e.g. SD3's sin-cos pos_embed) are left alone."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.dim() == 1:
            if name.endswith("bias"):
                v = torch.randn(p.shape, generator=g) * 0.2
            else:
                v = torch.rand(p.shape, generator=g) + 0.5
        else:
            fan_in = p[0].numel()
            v = torch.randn(p.shape, generator=g) / fan_in ** 0.5
        p.copy_(v.to(p.dtype))


def build_diffusers(cls, seed: int, **config):
    torch.manual_seed(seed)
    model = cls(**config)
    randomize_diffusers_(model, seed)
    return model.eval()


def tiny_vae(seed: int, latent_channels: int, scaling_factor: float, shift_factor: float) -> AutoencoderKL:
    return build_diffusers(
        AutoencoderKL, seed, in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D"], block_out_channels=[8], layers_per_block=1, act_fn="silu",
        latent_channels=latent_channels, norm_num_groups=2, sample_size=16, scaling_factor=scaling_factor,
        shift_factor=shift_factor, use_quant_conv=False, use_post_quant_conv=False)


def clip_tokenizer(clip_tok: dict, pad_token: str | None = None) -> CLIPTokenizer:
    """Built from vocab.json + merges.txt as make_fixtures does (not from_pretrained, which would
    leave is_local / local_files_only in the saved tokenizer_config.json)."""
    kw = {} if pad_token is None else {"pad_token": pad_token}
    folder = clip_tok["folder"]
    return CLIPTokenizer(vocab=os.path.join(folder, "vocab.json"), merges=os.path.join(folder, "merges.txt"),
                         model_max_length=CLIP_LEN, **kw)


def t5_tokenizer(t5_tok: dict) -> T5Tokenizer:
    model = tc.read_spm_model(os.path.join(t5_tok["folder"], "spiece.model"))
    return T5Tokenizer(vocab=[(p, s) for p, s, _ in model["pieces"]],
                       _spm_precompiled_charsmap=model["normalizer"]["precompiled_charsmap"],
                       extra_ids=0, model_max_length=512)


def same_tokenizer_files(info: dict, dest: str) -> None:
    """A pipeline tokenizer saved unchanged must equal make_fixtures' files byte for byte."""
    for name in info["files"]:
        with open(os.path.join(info["folder"], name), "rb") as a, open(os.path.join(dest, name), "rb") as b:
            assert a.read() == b.read(), f"{dest}/{name} differs from make_fixtures' tokenizer"


def add_vocab_files(info: dict, dest: str) -> None:
    """transformers 5 writes only tokenizer.json + tokenizer_config.json; add the vocabulary
    files (vocab.json + merges.txt / spiece.model) that real pipelines ship."""
    for name in info["files"]:
        target = os.path.join(dest, name)
        if not os.path.exists(target):
            shutil.copyfile(os.path.join(info["folder"], name), target)


# ---------------------------------------------------------------------------
# pipelines
# ---------------------------------------------------------------------------

def make_sd3(folder: str, clip_tok: dict, t5_tok: dict) -> None:
    te1 = mf.build_model(CLIPTextModelWithProjection,
                         clip_config(clip_tok, 32, 2, 2, 56, "quick_gelu", projection_dim=32),
                         SEEDS["sd3/text_encoder"])
    te2 = mf.build_model(CLIPTextModelWithProjection,
                         clip_config(clip_tok, 48, 3, 3, 88, "gelu", projection_dim=48),
                         SEEDS["sd3/text_encoder_2"])
    te3 = mf.build_model(T5EncoderModel, t5_config(t5_tok, 96, 4, 16, 136), SEEDS["sd3/text_encoder_3"],
                         t5_d_kv=16)
    transformer = build_diffusers(
        SD3Transformer2DModel, SEEDS["sd3/transformer"], sample_size=8, patch_size=2, in_channels=4,
        out_channels=4, num_layers=1, attention_head_dim=8, num_attention_heads=2, joint_attention_dim=96,
        caption_projection_dim=16, pooled_projection_dim=80, pos_embed_max_size=16)
    vae = tiny_vae(SEEDS["sd3/vae"], latent_channels=4, scaling_factor=1.5305, shift_factor=0.0609)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=scheduler, vae=vae,
        text_encoder=te1, tokenizer=clip_tokenizer(clip_tok),
        text_encoder_2=te2, tokenizer_2=clip_tokenizer(clip_tok, pad_token="!"),
        text_encoder_3=te3, tokenizer_3=t5_tokenizer(t5_tok))
    pipe.save_pretrained(folder, safe_serialization=True)
    add_vocab_files(clip_tok, os.path.join(folder, "tokenizer"))
    add_vocab_files(clip_tok, os.path.join(folder, "tokenizer_2"))
    add_vocab_files(t5_tok, os.path.join(folder, "tokenizer_3"))
    same_tokenizer_files(clip_tok, os.path.join(folder, "tokenizer"))
    same_tokenizer_files(t5_tok, os.path.join(folder, "tokenizer_3"))


def make_flux(folder: str, clip_tok: dict, t5_tok: dict) -> None:
    te1 = mf.build_model(CLIPTextModel, clip_config(clip_tok, 32, 2, 2, 56, "quick_gelu"),
                         SEEDS["flux/text_encoder"])
    te2 = mf.build_model(T5EncoderModel, t5_config(t5_tok, 64, 4, 12, 104), SEEDS["flux/text_encoder_2"],
                         t5_d_kv=12)
    transformer = build_diffusers(
        FluxTransformer2DModel, SEEDS["flux/transformer"], patch_size=1, in_channels=4, num_layers=1,
        num_single_layers=1, attention_head_dim=8, num_attention_heads=2, joint_attention_dim=64,
        pooled_projection_dim=32, guidance_embeds=False, axes_dims_rope=[2, 2, 4])
    # FluxPipeline packs 2x2 latent patches: transformer in_channels 4 = 1 latent channel x 4.
    vae = tiny_vae(SEEDS["flux/vae"], latent_channels=1, scaling_factor=0.3611, shift_factor=0.1159)
    scheduler = FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
        base_image_seq_len=256, max_image_seq_len=4096)
    pipe = FluxPipeline(scheduler=scheduler, vae=vae, text_encoder=te1, tokenizer=clip_tokenizer(clip_tok),
                        text_encoder_2=te2, tokenizer_2=t5_tokenizer(t5_tok), transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    add_vocab_files(clip_tok, os.path.join(folder, "tokenizer"))
    add_vocab_files(t5_tok, os.path.join(folder, "tokenizer_2"))
    same_tokenizer_files(clip_tok, os.path.join(folder, "tokenizer"))
    same_tokenizer_files(t5_tok, os.path.join(folder, "tokenizer_2"))


# ---------------------------------------------------------------------------
# reference outputs
# ---------------------------------------------------------------------------

def f32(t: torch.Tensor) -> torch.Tensor:
    assert t.dtype == torch.float32, t.dtype
    return t.detach().contiguous().clone()


def clip_ids(tokenizer, prompts, max_length=CLIP_LEN) -> torch.Tensor:
    return tokenizer(prompts, padding="max_length", max_length=max_length, truncation=True,
                     return_tensors="pt").input_ids


def check_all_f32(pipe) -> None:
    for name, comp in pipe.components.items():
        if isinstance(comp, torch.nn.Module):
            for p in comp.parameters():
                assert p.dtype == torch.float32, (name, p.dtype)


def base_metadata(pipeline_class: str, max_len: int) -> dict:
    return {"format": "pt", "generator": GENERATOR, "pipeline_class": pipeline_class,
            "prompts": json.dumps(PROMPTS), "negative_prompts": json.dumps(NEGATIVE),
            "max_sequence_length": str(max_len), "diffusers_version": diffusers.__version__,
            "transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0]}


@torch.no_grad()
def smoke_test(pipe) -> None:
    """One denoising step at 16x16 pixels: proves the components fit together (not saved)."""
    pipe.set_progress_bar_config(disable=True)
    out = pipe(prompt=PROMPTS[0], height=16, width=16, num_inference_steps=1, output_type="np",
               generator=torch.Generator().manual_seed(0), max_sequence_length=32)
    assert out.images.shape == (1, 16, 16, 3), out.images.shape


@torch.no_grad()
def sd3_reference(folder: str) -> dict:
    pipe = StableDiffusion3Pipeline.from_pretrained(folder, dtype=torch.float32)
    check_all_f32(pipe)
    pe, npe, ppe, nppe = pipe.encode_prompt(
        prompt=PROMPTS, prompt_2=PROMPTS, prompt_3=PROMPTS, device="cpu", num_images_per_prompt=1,
        do_classifier_free_guidance=True, negative_prompt=NEGATIVE, negative_prompt_2=NEGATIVE,
        negative_prompt_3=NEGATIVE, max_sequence_length=SD3_T5_LEN)
    tr = pipe.transformer
    out = {
        "prompt_embeds": f32(pe), "negative_prompt_embeds": f32(npe),
        "pooled_prompt_embeds": f32(ppe), "negative_pooled_prompt_embeds": f32(nppe),
        "context": f32(tr.context_embedder(pe)), "negative_context": f32(tr.context_embedder(npe)),
        "pooled_projected": f32(tr.time_text_embed.text_embedder(ppe)),
        "negative_pooled_projected": f32(tr.time_text_embed.text_embedder(nppe)),
        "clip_l_input_ids": clip_ids(pipe.tokenizer, PROMPTS),
        "clip_g_input_ids": clip_ids(pipe.tokenizer_2, PROMPTS),
        "t5_input_ids": pipe.tokenizer_3(PROMPTS, padding="max_length", max_length=SD3_T5_LEN, truncation=True,
                                         add_special_tokens=True, return_tensors="pt").input_ids,
    }
    width_l, width_g = pipe.text_encoder.config.hidden_size, pipe.text_encoder_2.config.hidden_size
    d_t5 = pipe.text_encoder_3.config.d_model
    n_seq = CLIP_LEN + SD3_T5_LEN
    shapes = {"prompt_embeds": [2, n_seq, d_t5], "pooled_prompt_embeds": [2, width_l + width_g],
              "context": [2, n_seq, 16], "pooled_projected": [2, 16]}
    for k, shape in shapes.items():
        assert list(out[k].shape) == shape and list(out["negative_" + k].shape) == shape, (k, out[k].shape)
    for k in ("clip_l_input_ids", "clip_g_input_ids"):
        assert list(out[k].shape) == [2, CLIP_LEN], k
    assert list(out["t5_input_ids"].shape) == [2, SD3_T5_LEN]

    # Recompute from the saved ids to pin down what encode_prompt does (no attention masks,
    # CLIP hidden_states[-2], pooled = text_embeds, zero padding of the CLIP part to T5's width).
    clip_width = width_l + width_g
    for key in ("prompt_embeds", "negative_prompt_embeds"):
        assert torch.all(out[key][:, :CLIP_LEN, clip_width:] == 0), f"{key}: CLIP part not zero beyond {clip_width}"
    r1 = pipe.text_encoder(out["clip_l_input_ids"], output_hidden_states=True)
    r2 = pipe.text_encoder_2(out["clip_g_input_ids"], output_hidden_states=True)
    r3 = pipe.text_encoder_3(out["t5_input_ids"])[0]
    assert torch.equal(pe[:, :CLIP_LEN, :width_l], r1.hidden_states[-2])
    assert torch.equal(pe[:, :CLIP_LEN, width_l:clip_width], r2.hidden_states[-2])
    assert torch.equal(pe[:, CLIP_LEN:], r3)
    assert torch.equal(ppe, torch.cat([r1.text_embeds, r2.text_embeds], -1))
    # CLIP truncation is exercised: the long prompt fills all 77 positions and ends in EOS.
    eos_l, eos_g = pipe.tokenizer.eos_token_id, pipe.tokenizer_2.eos_token_id
    for k, eos in (("clip_l_input_ids", eos_l), ("clip_g_input_ids", eos_g)):
        ids = out[k]
        assert ids[1, -1] == eos and (ids[1] == eos).sum() == 1, k
    assert (out["clip_l_input_ids"][0] == eos_l).sum() > 1  # pad = EOS
    assert (out["clip_g_input_ids"][0] == pipe.tokenizer_2.pad_token_id).sum() > 1  # pad = "!"
    # "!" is tokenizer_2's pad token and therefore a special *added* token: a "!" in the prompt becomes
    # the bare "!" id there, but "!</w>" in tokenizer/; LONG_PROMPT starts with "Epic!" to pin this down.
    bang = pipe.tokenizer_2.convert_tokens_to_ids("!")
    differ = out["clip_l_input_ids"] != out["clip_g_input_ids"]
    assert differ[0].sum() > 0 and differ[1].sum() == 1, differ.sum(-1)
    j = int(differ[1].nonzero()[0, 0])
    assert out["clip_g_input_ids"][1, j] == bang
    assert out["clip_l_input_ids"][1, j] == pipe.tokenizer.convert_tokens_to_ids("!</w>")
    assert len(pipe.tokenizer_3(LONG_PROMPT).input_ids) > SD3_T5_LEN  # T5 truncation is exercised too
    assert out["t5_input_ids"][1, -1] == pipe.tokenizer_3.eos_token_id
    smoke_test(pipe)

    meta = base_metadata(type(pipe).__name__, SD3_T5_LEN)
    meta.update({"clip_l_pad_id": str(pipe.tokenizer.pad_token_id),
                 "clip_g_pad_id": str(pipe.tokenizer_2.pad_token_id),
                 "t5_pad_id": str(pipe.tokenizer_3.pad_token_id)})
    return out, meta


@torch.no_grad()
def flux_reference(folder: str) -> dict:
    pipe = FluxPipeline.from_pretrained(folder, dtype=torch.float32)
    check_all_f32(pipe)
    pe, ppe, text_ids = pipe.encode_prompt(prompt=PROMPTS, prompt_2=PROMPTS, device="cpu",
                                           num_images_per_prompt=1, max_sequence_length=FLUX_T5_LEN)
    npe, nppe, _ = pipe.encode_prompt(prompt=NEGATIVE, prompt_2=NEGATIVE, device="cpu",
                                      num_images_per_prompt=1, max_sequence_length=FLUX_T5_LEN)
    tr = pipe.transformer
    out = {
        "prompt_embeds": f32(pe), "negative_prompt_embeds": f32(npe),
        "pooled_prompt_embeds": f32(ppe), "negative_pooled_prompt_embeds": f32(nppe),
        "text_ids": f32(text_ids),
        "context": f32(tr.context_embedder(pe)), "negative_context": f32(tr.context_embedder(npe)),
        "pooled_projected": f32(tr.time_text_embed.text_embedder(ppe)),
        "negative_pooled_projected": f32(tr.time_text_embed.text_embedder(nppe)),
        "clip_input_ids": clip_ids(pipe.tokenizer, PROMPTS),
        "t5_input_ids": pipe.tokenizer_2(PROMPTS, padding="max_length", max_length=FLUX_T5_LEN, truncation=True,
                                         return_tensors="pt").input_ids,
    }
    d_t5, d_clip = pipe.text_encoder_2.config.d_model, pipe.text_encoder.config.hidden_size
    shapes = {"prompt_embeds": [2, FLUX_T5_LEN, d_t5], "pooled_prompt_embeds": [2, d_clip],
              "context": [2, FLUX_T5_LEN, 16], "pooled_projected": [2, 16]}
    for k, shape in shapes.items():
        assert list(out[k].shape) == shape and list(out["negative_" + k].shape) == shape, (k, out[k].shape)
    assert list(out["text_ids"].shape) == [FLUX_T5_LEN, 3] and torch.all(out["text_ids"] == 0)
    assert list(out["clip_input_ids"].shape) == [2, CLIP_LEN]
    assert list(out["t5_input_ids"].shape) == [2, FLUX_T5_LEN]
    r1 = pipe.text_encoder(out["clip_input_ids"])
    assert torch.equal(ppe, r1.pooler_output)
    assert torch.equal(pe, pipe.text_encoder_2(out["t5_input_ids"])[0])
    assert out["clip_input_ids"][1, -1] == pipe.tokenizer.eos_token_id
    assert len(pipe.tokenizer_2(LONG_PROMPT).input_ids) < FLUX_T5_LEN  # not truncated at 512
    smoke_test(pipe)

    meta = base_metadata(type(pipe).__name__, FLUX_T5_LEN)
    meta.update({"clip_pad_id": str(pipe.tokenizer.pad_token_id), "t5_pad_id": str(pipe.tokenizer_2.pad_token_id)})
    return out, meta


def write_reference(folder: str, tensors: dict, meta: dict) -> None:
    for k, v in tensors.items():
        assert v.dtype in (torch.float32, torch.int64), (k, v.dtype)
        assert torch.isfinite(v.float()).all(), f"{k} is not finite"
    write_safetensors(os.path.join(folder, "reference.safetensors"), tensors, meta)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def folder_size(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures"), help="output root (default: fixtures/)")
    ap.add_argument("--prompts", default=tc.DEFAULT_PROMPTS, help="calibration prompt file (tokenizer training)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    root = os.path.abspath(args.out)
    os.makedirs(root, exist_ok=True)
    for name in FOLDERS:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)

    prompts = tc.read_prompts(args.prompts)
    with tempfile.TemporaryDirectory(prefix="skrrc-pipeline-fixtures-") as work:
        t5_tok = mf.make_t5_tokenizer(prompts, work)
        clip_tok = mf.make_clip_tokenizer(prompts, work)
        assert clip_tok["tok"].convert_tokens_to_ids("!") != clip_tok["tok"].unk_token_id

        sd3, flux = (os.path.join(root, n) for n in FOLDERS)
        make_sd3(sd3, clip_tok, t5_tok)
        write_reference(sd3, *sd3_reference(sd3))
        make_flux(flux, clip_tok, t5_tok)
        write_reference(flux, *flux_reference(flux))

    for name in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, name)):
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)  # save_pretrained leaves 0600 on weights
    for name in FOLDERS:
        size = folder_size(os.path.join(root, name))
        print(f"{name:10s} {size / 1024:8.1f} KiB")
        assert size < MAX_FOLDER_BYTES, f"{name} is too large ({size} B)"
    print(f"-> {root}")


if __name__ == "__main__":
    main()
