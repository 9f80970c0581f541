"""skrr.diffusers builds each pipeline's keyword arguments from the encoders' own outputs, laid
out as diffusers' encode_prompt lays them out (numpy only; the pipelines themselves are in
examples/diffusers_pipeline.py, outside CI)."""
import unittest
from pathlib import Path

import numpy as np

import skrr
import skrr.diffusers

SD3 = Path(__file__).resolve().parents[2] / "fixtures" / "sd3-pipeline"


class Helpers(unittest.TestCase):
    def test_pixart_sigma_pads_to_300_with_masks_for_prompt_and_negative(self):
        t5 = skrr.Encoder(SD3, encoder="text_encoder_3", pipeline="pixart-sigma")
        kwargs = skrr.diffusers.pixart_sigma(t5, ["a cat", "two dogs"], negative_prompt="blurry")
        self.assertEqual(kwargs["prompt_embeds"].shape, (2, 300, t5.width))
        self.assertEqual(kwargs["negative_prompt_embeds"].shape, (2, 300, t5.width))
        self.assertIsNone(kwargs["negative_prompt"])
        own = t5.encode(["blurry"])
        self.assertTrue(np.array_equal(kwargs["negative_prompt_embeds"][1], own["prompt_embeds"][0]))
        self.assertEqual(int(kwargs["prompt_attention_mask"][0].sum()), int(t5.encode("a cat")["prompt_attention_mask"].sum()))

    def test_sd3_joins_clip_pair_and_t5_along_the_sequence(self):
        clip = skrr.Encoder(SD3, encoder="text_encoder", pipeline="sd3")
        # Wider than the two CLIP towers together, as T5-XXL (4096) is beside CLIP-L + CLIP-G (2048).
        t5 = skrr.Encoder(SD3.parent / "t5-trained", pipeline="sd3")
        kwargs = skrr.diffusers.sd3(clip, clip, t5, "a cat")
        clip_out = clip.encode("a cat", output="layer:-2")
        t5_out = t5.encode("a cat")
        embeds = kwargs["prompt_embeds"]
        self.assertEqual(embeds.shape, (1, 77 + 256, t5.width))
        self.assertTrue(np.array_equal(embeds[:, :77, :clip.width], clip_out["prompt_embeds"]))
        self.assertTrue(np.array_equal(embeds[:, :77, clip.width:2 * clip.width], clip_out["prompt_embeds"]))
        self.assertFalse(embeds[:, :77, 2 * clip.width:].any())
        self.assertTrue(np.array_equal(embeds[:, 77:], t5_out["prompt_embeds"]))
        pooled = clip_out["pooled_prompt_embeds"]
        self.assertTrue(np.array_equal(kwargs["pooled_prompt_embeds"], np.concatenate([pooled, pooled], axis=-1)))
        self.assertEqual(kwargs["negative_prompt_embeds"].shape, embeds.shape)

    def test_flux_takes_t5_states_and_clip_pooled(self):
        clip = skrr.Encoder(SD3, encoder="text_encoder", pipeline="flux")
        t5 = skrr.Encoder(SD3, encoder="text_encoder_3", pipeline="flux")
        kwargs = skrr.diffusers.flux(clip, t5, ["a cat"])
        self.assertEqual(kwargs["prompt_embeds"].shape, (1, 512, t5.width))
        self.assertTrue(np.array_equal(kwargs["pooled_prompt_embeds"], clip.encode("a cat", output="pooled")["pooled_prompt_embeds"]))

    def test_a_mismatched_preset_is_named(self):
        t5 = skrr.Encoder(SD3, encoder="text_encoder_3")
        with self.assertRaises(ValueError) as caught:
            skrr.diffusers.pixart_sigma(t5, "a cat")
        self.assertIn("compile it with --pipeline pixart-sigma", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
