"""Keyword arguments for diffusers pipelines, built from skrr encoders the way each pipeline's
own `encode_prompt` builds them (numpy arrays; `as_torch` converts them).

    t5 = skrr.Encoder("t5-pruned.skrr")           # compiled with --pipeline pixart-sigma
    kwargs = skrr.diffusers.as_torch(skrr.diffusers.pixart_sigma(t5, "a cat"))
    image = pipe(**kwargs, num_inference_steps=20).images[0]

The negative (null) prompt is encoded like any prompt, as the pipelines do for "".
"""
import numpy as np

__all__ = ["pixart_sigma", "sd3", "flux", "as_torch"]


def _prompts(prompt):
    return [prompt] if isinstance(prompt, str) else list(prompt)


def _negatives(negative_prompt, count):
    negatives = _prompts(negative_prompt)
    if len(negatives) == 1 and count > 1:
        negatives = negatives * count
    if len(negatives) != count:
        raise ValueError("%d negative prompts for %d prompts" % (len(negatives), count))
    return negatives


def _expect_pipeline(encoder, name, role):
    if encoder.pipeline != name:
        raise ValueError("the %s encoder runs the %r preset; compile it with --pipeline %s (or open it with pipeline=%r)"
                         % (role, encoder.pipeline, name, name))


def pixart_sigma(t5, prompt, negative_prompt=""):
    """PixArtSigmaPipeline: T5 states of 300 padded tokens with their mask, for the prompt and
    the negative prompt."""
    _expect_pipeline(t5, "pixart-sigma", "T5")
    prompts = _prompts(prompt)
    positive = t5.encode(prompts)
    negative = t5.encode(_negatives(negative_prompt, len(prompts)))
    return {
        "prompt_embeds": positive["prompt_embeds"],
        "prompt_attention_mask": positive["prompt_attention_mask"],
        "negative_prompt_embeds": negative["prompt_embeds"],
        "negative_prompt_attention_mask": negative["prompt_attention_mask"],
        # The pipeline's own default negative prompt is "", which it refuses beside embeddings.
        "negative_prompt": None,
    }


def _sd3_joint(clip_l, clip_g, t5, prompts):
    l = clip_l.encode(prompts, output="layer:-2")
    g = clip_g.encode(prompts, output="layer:-2")
    t = t5.encode(prompts)
    clip = np.concatenate([l["prompt_embeds"], g["prompt_embeds"]], axis=-1)
    width = t["prompt_embeds"].shape[-1]
    if clip.shape[-1] > width:
        raise ValueError("CLIP-L + CLIP-G width %d exceeds T5's %d" % (clip.shape[-1], width))
    clip = np.pad(clip, ((0, 0), (0, 0), (0, width - clip.shape[-1])))
    embeds = np.concatenate([clip, t["prompt_embeds"]], axis=-2)
    pooled = np.concatenate([l["pooled_prompt_embeds"], g["pooled_prompt_embeds"]], axis=-1)
    return embeds, pooled


def sd3(clip_l, clip_g, t5, prompt, negative_prompt=""):
    """StableDiffusion3Pipeline: CLIP-L and CLIP-G penultimate states side by side, zero-padded
    to T5's width, followed along the sequence by T5's 256 tokens; pooled: the two projected
    pooled outputs side by side."""
    for encoder, role in ((clip_l, "CLIP-L"), (clip_g, "CLIP-G"), (t5, "T5")):
        _expect_pipeline(encoder, "sd3", role)
    prompts = _prompts(prompt)
    embeds, pooled = _sd3_joint(clip_l, clip_g, t5, prompts)
    negative_embeds, negative_pooled = _sd3_joint(clip_l, clip_g, t5, _negatives(negative_prompt, len(prompts)))
    return {"prompt_embeds": embeds, "pooled_prompt_embeds": pooled,
            "negative_prompt_embeds": negative_embeds, "negative_pooled_prompt_embeds": negative_pooled}


def flux(clip_l, t5, prompt):
    """FluxPipeline: T5 states of 512 tokens (no mask) and CLIP-L's pooled output. FLUX-dev
    uses no negative prompt."""
    _expect_pipeline(clip_l, "flux", "CLIP-L")
    _expect_pipeline(t5, "flux", "T5")
    prompts = _prompts(prompt)
    return {"prompt_embeds": t5.encode(prompts)["prompt_embeds"],
            "pooled_prompt_embeds": clip_l.encode(prompts, output="pooled")["pooled_prompt_embeds"]}


def as_torch(kwargs, dtype=None, device=None):
    """The same arguments with arrays as torch tensors (floating ones in `dtype` when given)."""
    import torch

    converted = {}
    for name, array in kwargs.items():
        if array is None:
            converted[name] = None
            continue
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        converted[name] = tensor.to(device) if device is not None else tensor
    return converted
