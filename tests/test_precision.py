"""Inference precision: bf16 where the CPU has it gives the scores of fp32.

Measured on the accuracy bench's trained model over a 3-minute stream: at most 0.0097
apart (mean 0.00014), the same segments, the scan 1.9x faster. Here an untrained
network with a stretched head stands in, which magnifies rounding: 0.02 is its bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autotosis.core import hardware
from autotosis.core.errors import ModelError
from autotosis.learn.model import Classifier, ModelMeta, build_model, inference_dtype
from autotosis.signals import scan


def test_bf16_scores_match_fp32():
    torch.manual_seed(0)
    model = build_model()
    images = np.random.default_rng(0).integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
    meta = ModelMeta(size=64)
    logits = np.log(1 / Classifier(model, meta, torch.device("cpu")).predict(images) - 1) * -1
    with torch.no_grad():  # rescale the head so the scores spread over 0..1, as a trained one's do
        scale = 1.0 / max(float(logits.std()), 1e-6)
        model.fc.weight.mul_(scale)
        model.fc.bias.copy_((model.fc.bias - float(logits.mean())) * scale)
    fp32 = Classifier(model, meta, torch.device("cpu")).predict(images)
    bf16 = Classifier(model, meta, torch.device("cpu"), amp_dtype=torch.bfloat16).predict(images)
    assert fp32.std() > 0.1
    assert np.abs(fp32 - bf16).max() < 0.02


def test_precision_choices():
    cpu = torch.device("cpu")
    assert inference_dtype("fp32", cpu) is None
    assert inference_dtype("bf16", cpu) is torch.bfloat16
    assert inference_dtype("auto", cpu) is (torch.bfloat16 if hardware.cpu_has_bf16() else None)
    with pytest.raises(ModelError, match="fp16 inference needs a GPU"):
        inference_dtype("fp16", cpu)
    with pytest.raises(ModelError, match="unknown precision 'int4'"):
        inference_dtype("int4", cpu)


def test_precision_is_part_of_the_scan_cache_key(tmp_path):
    from autotosis import media

    vod = media.make_lavfi_vod(tmp_path / "v.mp4", 1, 64, 48, 5)
    info = media.probe(vod)
    keys = {scan.scan_key(info, "m", 4.0, None, False, p) for p in ("fp32", "bf16")}
    assert len(keys) == 2
    assert scan.resolved_precision(scan.ScanConfig(precision="fp32")) == "fp32"
    assert scan.resolved_precision(scan.ScanConfig(device="cuda")) == "bf16"
