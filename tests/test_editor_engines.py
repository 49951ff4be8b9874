"""The editor projects, rendered by real editing engines and held against reel.mp4.

reel.xges by GStreamer Editing Services (`ges-launch-1.0`, the engine of Pitivi) and
reel.mlt by MLT (`melt`, the engine of Shotcut and Kdenlive), both installed by
`scripts/setup.sh --test`. Each render must have the reel's frames, to the frame, and
the same picture a frame either side of every cut; the VOD shows its frame number on
every frame, so a cut a frame off is caught. The reel is rendered without its caption
(the editor files rebuild the cut from the VOD, which has none).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from media_support import counter_vod, decoded, frame_number, loudest_tone

from autotosis import media
from autotosis.core.frames import frames_in, snap, timeline_rate
from autotosis.core.timeline import Segment
from autotosis.pick.highlights import highlights
from autotosis.publish import editors, sidecars
from autotosis.publish.reel import RenderConfig, render_reel

pytestmark = pytest.mark.slow

# Off the frame grid at every rate, so each end must be rounded to a boundary.
SEGMENTS = [Segment(0.93, 2.47, 0.9, 0.6), Segment(3.2, 4.02, 0.8, 0.5), Segment(4.53, 5.9, 1.0, 0.7)]
TRACKS = (("Mix", 440.0), ("Mic/Aux", 1000.0), ("Desktop Audio", 2500.0))
GES_FORMAT = "video/quicktime,variant=iso:video/x-h264:audio/mpeg,mpegversion=4"


def _engine(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run scripts/setup.sh --test")
    return found


def render_xges(project: Path, output: Path) -> Path:
    subprocess.run([_engine("ges-launch-1.0"), "--load", str(project), "-o", output.as_uri(),
                    "--format", GES_FORMAT], capture_output=True, check=True, timeout=300)
    return output


def render_mlt(project: Path, output: Path) -> Path:
    subprocess.run([_engine("melt"), str(project), "-consumer", f"avformat:{output}", "vcodec=libx264",
                    "acodec=aac"], capture_output=True, check=True, timeout=300)
    return output


@pytest.mark.parametrize(("rate", "tracks", "reel_audio"), [
    ("30000/1001", 1, 0), ("25", 1, 0), ("60000/1001", 1, 0), ("30", 3, 1),
])
def test_engines_render_the_reel(tmp_path: Path, rate: str, tracks: int, reel_audio: int) -> None:
    folder = tmp_path / "it's a \"reel\" & more"
    folder.mkdir()
    vod = counter_vod(folder / "my vod's #1.mp4", Fraction(rate), 6.5, TRACKS[:tracks])
    info = media.probe(vod)
    fps = timeline_rate(info.fps)
    assert fps == info.fps
    segments = [snap(seg, fps, frames_in(info.duration, fps)) for seg in SEGMENTS]  # as compile does
    config = RenderConfig(overlay=False, audio_track=reel_audio)
    reel = render_reel(vod, segments, folder / "reel.mp4", config)
    sidecars.write_sidecars(folder, vod, segments, "rage", fps)
    files = editors.write_editor_files(folder, vod, info, highlights(segments, "rage"), "my vod's reel",
                                       reel_audio)
    rows = json.loads((folder / "segments.json").read_text())["segments"]
    spans = [range(r["first_frame"], r["last_frame"] + 1) for r in rows]

    want = decoded(reel)
    assert [frame_number(f) for f in want] == [n for span in spans for n in span]  # the reel itself
    cuts = np.cumsum([0, *(len(span) for span in spans)])
    edges = sorted({*cuts[:-1], *(cuts[1:] - 1)})  # the frames either side of every cut
    tone = TRACKS[reel_audio][1]
    assert loudest_tone(reel, tuple(t for _, t in TRACKS)) == tone
    renders = {"ges": render_xges(files["xges"], tmp_path / "ges.mp4"),
               "melt": render_mlt(files["mlt"], tmp_path / "melt.mp4")}
    for engine, path in renders.items():
        got = decoded(path)
        assert len(got) == len(want), engine  # the same length, to the frame
        assert media.probe(path).fps == fps, engine
        for k in edges:
            assert frame_number(got[k]) == frame_number(want[k]), (engine, k)
            assert np.abs(got[k].astype(int) - want[k]).mean() < 4, (engine, k)
        heard = loudest_tone(path, tuple(t for _, t in TRACKS))
        # GES 1.22 plays a clip's first audio stream: no project can name another (README).
        assert heard == (TRACKS[0][1] if engine == "ges" else tone), engine
