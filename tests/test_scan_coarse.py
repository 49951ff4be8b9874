"""Coarse-to-fine scanning on generated VODs with a real ResNet-18 that sees red.

The model is torchvision's ResNet-18 with weights set by hand instead of trained: the
stem computes red minus blue, every residual branch is zero, the downsampling shortcuts
pass that channel on, and the head thresholds its mean. A red face-cam scores near 1,
a grey one near 0.1: a detector whose answer we know, run through the real network,
decoder and scan. The VODs are grey with red "reactions", some with a shout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.timeline import Segment, Timeline
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint
from autotosis.pick import select as select_lib
from autotosis.run import compile as compile_lib
from autotosis.run.compile import scan_hints
from autotosis.signals import loudness, scan

SR, FPS, SECONDS = 16000, 8, 120.0
# Red reactions: (start, end, loud). The short ones fall between keyframes (every 2 s),
# so only their shout can point pass 1 at them.
REACTIONS = ((20.0, 26.0, True), (50.3, 51.8, True), (80.4, 81.6, True), (95.0, 99.0, False))
BANG = (108.0, 109.0)  # loud, but the face stays grey: a window that dense finds nothing in
BOX = (0.0, 0.0, 1.0, 1.0)


def red_detector(path: Path) -> Path:
    model = build_model()
    state = model.state_dict()
    for key, value in state.items():
        if key.endswith(("conv1.weight", "conv2.weight", "downsample.0.weight")):
            value.zero_()
    state["conv1.weight"][0, 0, 3, 3] = 1.0  # normalised red ...
    state["conv1.weight"][0, 2, 3, 3] = -1.0  # ... minus blue, in channel 0
    for key, value in state.items():
        if key.endswith("downsample.0.weight"):
            value[0, 0, 0, 0] = 1.0  # the shortcut carries channel 0 to the next stage
    state["fc.weight"].zero_()
    state["fc.weight"][0, 0] = 4.0
    state["fc.bias"].fill_(-2.0)
    model.load_state_dict(state)
    save_checkpoint(path, model, ModelMeta(size=32, fps=4.0, threshold=0.5))
    return path


def reaction_vod(path: Path, gop_seconds: float = 2.0, seconds: float = SECONDS) -> Path:
    rng = np.random.default_rng(3)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    shouts = [(a, b) for a, b, loud in REACTIONS if loud and b <= seconds] + [BANG]
    for a, b in shouts:
        i, j = round(a * SR), round(b * SR)
        audio[i:j] = 0.6 * np.sin(np.arange(j - i) / SR * 2 * np.pi * 400)

    def frames():
        for k in range(round(seconds * FPS)):
            t = k / FPS
            red = any(a <= t < b for a, b, _ in REACTIONS)
            image = np.full((48, 64, 3), (200, 40, 40) if red else (120, 120, 120), np.uint8)
            image[:, (k % 64):(k % 64) + 2] = 90  # a little motion, as a face-cam has
            yield image

    return media.encode_frames(path, frames(), FPS, audio=audio, sample_rate=SR,
                               gop=round(gop_seconds * FPS), preset="ultrafast")


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path, list[scan.Hint]]:
    root = tmp_path_factory.mktemp("coarse")
    vod = reaction_vod(root / "vod.mp4")
    model = red_detector(root / "red.pt")
    loud, _ = loudness.loudness(vod, cache=root / "cache")
    return vod, model, scan_hints(loud)


def _segments(result: scan.ScanResult) -> list[Segment]:
    return select_lib.select_segments(result.timeline, select_lib.SelectConfig(enter=0.5), SECONDS)


def test_plan_follows_the_keyframe_interval(tmp_path):
    short = media.make_lavfi_vod(tmp_path / "g2.mp4", 70, 64, 48, 5, gop_seconds=2)
    long = media.make_lavfi_vod(tmp_path / "g10.mp4", 70, 64, 48, 5, gop_seconds=10)
    sparse = media.make_lavfi_vod(tmp_path / "g40.mp4", 70, 64, 48, 5, gop_seconds=40)
    intra = media.make_lavfi_vod(tmp_path / "g0.mp4", 70, 64, 48, 4, gop_seconds=0.25)
    plans = {p.stem: scan.plan_first_pass(70, media.keyframe_info(p, media.probe(p)), 4.0)
             for p in (short, long, sparse, intra)}
    assert plans["g2"].kind == "keyframes" and plans["g2"].interval == pytest.approx(2.0)
    assert plans["g10"].kind == "keyframes" and plans["g10"].interval == pytest.approx(10.0)
    assert plans["g40"].kind == "dense" and "keyframes" in plans["g40"].reason
    assert plans["g0"].kind == "dense" and "as many as dense samples" in plans["g0"].reason
    assert scan.plan_first_pass(30, media.keyframe_info(short, media.probe(short)), 4.0).kind == "dense"


def test_coarse_finds_what_dense_finds_short_reactions_too(setup, tmp_path):
    vod, model, hints = setup
    dense = scan.scan(vod, model, BOX, scan.ScanConfig(mode="dense"), cache=tmp_path, fps=4.0)
    coarse = scan.scan(vod, model, BOX, scan.ScanConfig(mode="coarse"), cache=tmp_path, fps=4.0, hints=hints)
    found = _segments(dense)
    assert len(found) == 4  # every reaction, the 1.2 s one included
    assert [(round(s.start, 1), round(s.end, 1)) for s in _segments(coarse)] == \
        [(round(s.start, 1), round(s.end, 1)) for s in found]
    assert np.allclose(coarse.timeline.times, dense.timeline.times)  # one grid: selection sees no seam
    assert "keyframes every 2.0s" in coarse.summary() and coarse.windows >= 4
    assert coarse.dense_seconds < 0.5 * SECONDS and coarse.samples < 0.6 * dense.samples
    # inside the windows the coarse timeline is the dense scan, sample for sample
    for start, end, _ in REACTIONS:
        at = (dense.timeline.times >= start) & (dense.timeline.times < end)
        assert np.allclose(coarse.timeline.values[at], dense.timeline.values[at], atol=1e-4)


def test_without_hints_a_silent_moment_between_keyframes_is_the_limit(setup, tmp_path):
    """What the keyframes alone see: long reactions yes; the loud short ones only with loudness."""
    vod, model, _ = setup
    coarse = scan.scan(vod, model, BOX, scan.ScanConfig(mode="coarse"), cache=tmp_path, fps=4.0)
    spans = [(s.start, s.end) for s in _segments(coarse)]
    assert any(a <= 21 and b >= 25 for a, b in spans) and any(a <= 96 and b >= 98 for a, b in spans)


def test_both_passes_cache_and_resume(setup, tmp_path):
    vod, model, hints = setup
    config = scan.ScanConfig(mode="coarse", batch_size=16, checkpoint_seconds=1.0)
    whole = scan.scan(vod, model, BOX, config, cache=tmp_path / "a", fps=4.0, hints=hints)
    stages: list[str] = []

    def stop_in(name: str, at: float):
        def progress(position: float, total: float) -> None:
            if stages[-1].startswith(name) and position >= at:
                raise KeyboardInterrupt
        return progress

    for name, at in (("scan 1/2", 40.0), ("scan 2/2", 8.0)):
        with pytest.raises(KeyboardInterrupt):
            scan.scan(vod, model, BOX, config, stop_in(name, at), cache=tmp_path / "b", fps=4.0, hints=hints,
                      stage=stages.append)
        assert list((tmp_path / "b" / "scans").glob("*.partial.npz"))
    assert stages == ["scan 1/2 keyframes", "scan 1/2 keyframes",
                      f"scan 2/2 dense in {whole.windows} window(s)"]
    resumed = scan.scan(vod, model, BOX, config, cache=tmp_path / "b", fps=4.0, hints=hints)
    assert resumed.resumed_from > 0 and resumed.samples < whole.samples
    assert np.allclose(resumed.timeline.times, whole.timeline.times)
    assert np.allclose(resumed.timeline.values, whole.timeline.values, atol=1e-4)
    assert not list((tmp_path / "b" / "scans").glob("*.partial.npz"))
    again = scan.scan(vod, model, BOX, config, cache=tmp_path / "b", fps=4.0, hints=hints)
    assert again.cached and again.samples == 0
    assert np.array_equal(again.timeline.values, whole.timeline.values)


def test_windows_margins_merging_and_grid():
    first = Timeline(np.arange(0.0, 60.0, 2.0), np.zeros(30, np.float32))
    first.values[10] = 0.4  # at 20 s: neighbours 18 and 22, margins 2 -> 16..24
    first.values[11] = 0.1
    loud = Timeline(np.arange(0.25, 60.0, 0.5), np.zeros(120))
    loud.values[80:82] = 0.9  # 40.0..41.0 -> 36..45 with 4 s margins
    hint = scan.Hint("loudness", loud, 0.3)
    windows = scan.propose_windows(first, 0.25, [hint], 60.0, 4.0)
    assert windows == [(16.0, 24.0), (36.0, 45.0)]
    assert scan.propose_windows(first, 0.25, [hint], 60.0, 4.0, gap=20.0) == [(16.0, 45.0)]
    calm = Timeline(first.times, np.zeros(30, np.float32))
    assert scan.propose_windows(calm, 0.25, [], 60.0, 4.0) == []
    odd = scan.propose_windows(first, 0.25, [], 60.0, 15.0)
    assert odd[0][0] * 15 == pytest.approx(round(odd[0][0] * 15)) and odd[0][0] <= 16.0


def test_gpu_decoding_arguments_and_fallback(tmp_path):
    vod = media.make_lavfi_vod(tmp_path / "v.mp4", 2, 320, 240, 10)
    info = media.probe(vod)
    here = media.decode_plan("cuda", info.codec)
    if here.decoder is None:  # this machine: one line saying why, and the CPU arguments
        assert here.reason.startswith("cuda: ") and "decoding on the CPU" in here.reason
        cpu = media.frames_args(vod, info, 4.0, BOX, 32)
        assert media.frames_args(vod, info, 4.0, BOX, 32, decode=here) == cpu
    assert media.decode_plan("cpu", "h264") == media.CPU
    lists = {"hwaccels": "Hardware acceleration methods:\ncuda\n", "decoders": " V..... h264_cuvid  Nvidia"}
    gpu = media.decode_plan("cuda", "h264", gpu=True, **lists)
    assert gpu == media.DecodePlan("h264_cuvid")
    assert "no NVIDIA GPU" in media.decode_plan("cuda", "h264", gpu=False, **lists).reason
    assert "prores" in media.decode_plan("cuda", "prores", gpu=True, **lists).reason
    assert "rotated" in media.decode_plan("cuda", "h264", 90, gpu=True, **lists).reason
    args, shape = media.frames_args(vod, info, 4.0, (0.5, 0.0, 1.0, 0.5), 32, start=3.0, decode=gpu)
    joined = " ".join(args)
    assert shape == (32, 32)
    assert "-hwaccel cuda -hwaccel_output_format cuda" in joined and "-c:v h264_cuvid" in joined
    assert "-crop 0x120x160x0" in joined and "-resize 32x32" in joined  # top x bottom x left x right
    assert args.index("-ss") < args.index("-i") and "hwdownload" in joined and "crop=" not in joined
    keyframes, _ = media.frames_args(vod, info, None, BOX, 32, keyframes=True, decode=gpu)
    assert "-hwaccel" not in keyframes  # keyframes decode on the CPU: they cost little there


def test_chat_proposes_windows_with_its_delay_as_lead_in():
    """A burst of chatters at 300 s (chat lags: the moment is up to 20 s earlier) proposes a
    window reaching back over the whole delay range; with --chat-delay, only the margins."""
    from autotosis.signals import chat as chat_lib

    calm = [chat_lib.ChatMessage(float(t), f"u{t % 7}", "hello") for t in range(0, 600, 9)]
    burst = [chat_lib.ChatMessage(300.0 + k * 0.1, f"fan{k}", "LUL") for k in range(30)]
    replay = chat_lib.ChatReplay(Path("chat.log"), "log", tuple(sorted(calm + burst, key=lambda m: m.time)))
    (hint,) = scan_hints(None, chat_lib.chat_timeline(replay.messages, 600.0, chat_lib.ChatConfig()))
    assert hint.name == "chat" and hint.margin[0] >= chat_lib.DELAY_RANGE[1]
    first = Timeline(np.arange(0.0, 600.0, 2.0), np.zeros(300, np.float32))
    (window,) = scan.propose_windows(first, 0.5, [hint], 600.0, 4.0)
    assert window[0] <= 300.0 - chat_lib.DELAY_RANGE[1] and 300.0 < window[1] < 330.0
    fixed_delay = chat_lib.ChatConfig(delay=6.0)
    (fixed,) = scan_hints(None, chat_lib.chat_timeline(replay.messages, 600.0, fixed_delay), fixed_delay)
    (window,) = scan.propose_windows(first, 0.5, [fixed], 600.0, 4.0)
    assert 280.0 < window[0] <= 294.0 - scan.HINT_MARGIN[0] + 1.0


def test_chat_delay_is_measured_against_the_loudness_before_the_scan():
    """A shout at 291-294 s and chat's burst at 300 s: chat is moved back by the delay that the
    loudness gives, so its window looks at the shout with a few seconds' slack, not at the
    whole 20 s delay range before every burst."""
    from autotosis.signals import chat as chat_lib

    calm = [chat_lib.ChatMessage(float(t), f"u{t % 7}", "hello") for t in range(0, 600, 9)]
    burst = [chat_lib.ChatMessage(300.0 + k * 0.1, f"fan{k}", "LUL") for k in range(30)]
    messages = tuple(sorted(calm + burst, key=lambda m: m.time))
    times = np.arange(0.25, 600.0, 0.5)
    level = -40.0 + np.random.default_rng(0).normal(0.0, 0.5, len(times))
    level[(times >= 291.0) & (times < 294.0)] = -24.0
    (_, chat_hint) = scan_hints(Timeline(times, level), chat_lib.chat_timeline(messages, 600.0))
    assert chat_hint.margin == (scan.HINT_MARGIN[0] + compile_lib.CHAT_DELAY_SLACK,
                                scan.HINT_MARGIN[1] + compile_lib.CHAT_DELAY_SLACK)
    first = Timeline(np.arange(0.0, 600.0, 2.0), np.zeros(300, np.float32))
    (window,) = scan.propose_windows(first, 0.5, [chat_hint], 600.0, 4.0)
    (unmeasured,) = scan_hints(None, chat_lib.chat_timeline(messages, 600.0))
    (whole_range,) = scan.propose_windows(first, 0.5, [unmeasured], 600.0, 4.0)
    assert window[0] <= 291.0 and window[1] >= 294.0  # the shout is looked at
    assert (window[1] - window[0]) < (whole_range[1] - whole_range[0]) - 8.0
