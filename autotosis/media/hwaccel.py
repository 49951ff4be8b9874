"""Decoding on an NVIDIA GPU (NVDEC through ffmpeg's cuvid decoders), or why not.

With `--device cuda` the scan's decoder can run on the GPU: the cuvid decoder crops the
face-cam and scales it to the model's size in hardware, and only the small crop comes
back to system memory. Whether that is possible depends on this ffmpeg build, the
driver and the codec; `decode_plan` says which, and why not in one line.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autotosis.media.runner import ffmpeg_bin

# ffprobe codec name -> ffmpeg's NVDEC decoder for it.
CUVID_DECODERS = {"h264": "h264_cuvid", "hevc": "hevc_cuvid", "av1": "av1_cuvid", "vp9": "vp9_cuvid",
                  "vp8": "vp8_cuvid", "mpeg2video": "mpeg2_cuvid", "mpeg4": "mpeg4_cuvid"}


@dataclass(frozen=True)
class DecodePlan:
    """Where frames are decoded: `decoder` is a cuvid decoder's name, or None for the CPU.
    `reason` is one line saying why a GPU decode that was asked for is not used."""

    decoder: str | None = None
    reason: str = ""


CPU = DecodePlan()


@functools.cache
def _ffmpeg_lists() -> tuple[str, str]:
    """(`ffmpeg -hwaccels`, `ffmpeg -decoders`) output, read once."""
    def listing(flag: str) -> str:
        done = subprocess.run([ffmpeg_bin(), "-hide_banner", flag], capture_output=True, text=True,
                              errors="replace")
        return done.stdout

    return listing("-hwaccels"), listing("-decoders")


def nvidia_device() -> bool:
    """An NVIDIA GPU's device node is present (the driver is loaded)."""
    return Path("/dev/nvidiactl").exists() and any(Path("/dev").glob("nvidia[0-9]*"))


def decode_plan(device: str, codec: str, rotation: int = 0, hwaccels: str | None = None,
                decoders: str | None = None, gpu: bool | None = None) -> DecodePlan:
    """The decoder for `codec` on `device`: cuvid where ffmpeg, the GPU and the file allow it.

    `hwaccels`, `decoders` and `gpu` default to what this machine has (tests pass their own).
    """
    if not device.startswith("cuda"):
        return CPU
    fallback = "cuda: {}; decoding on the CPU, the model stays on the GPU"
    if hwaccels is None or decoders is None:
        found_hwaccels, found_decoders = _ffmpeg_lists()
        hwaccels = found_hwaccels if hwaccels is None else hwaccels
        decoders = found_decoders if decoders is None else decoders
    name = CUVID_DECODERS.get(codec)
    if name is None:
        return DecodePlan(None, fallback.format(f"NVDEC does not decode {codec}"))
    if "cuda" not in hwaccels.split() or name not in decoders:
        return DecodePlan(None, fallback.format(f"this ffmpeg has no {name} (built without NVDEC)"))
    if not (nvidia_device() if gpu is None else gpu):
        return DecodePlan(None, fallback.format("no NVIDIA GPU driver found (/dev/nvidiactl)"))
    if rotation:
        return DecodePlan(None, fallback.format(f"the video is rotated {rotation} degrees"))
    return DecodePlan(name)


def cuvid_input_options(plan: DecodePlan, crop: tuple[int, int, int, int] | None, width: int, height: int,
                        size: tuple[int, int] | None) -> dict[str, object]:
    """ffmpeg input options that decode on the GPU, crop (x, y, w, h) and resize there.

    The cuvid decoder takes the crop as top x bottom x left x right margins and the
    output size as WxH; frames stay in GPU memory until `hwdownload`.
    """
    assert plan.decoder is not None
    opts: dict[str, object] = {"hwaccel": "cuda", "hwaccel_output_format": "cuda", "c:v": plan.decoder}
    if crop is not None:
        x, y, w, h = crop
        opts["crop"] = f"{y}x{height - y - h}x{x}x{width - x - w}"
    if size is not None:
        opts["resize"] = f"{size[0]}x{size[1]}"
    return opts
