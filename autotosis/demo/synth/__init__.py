"""Synthetic streams: stream-like videos with a drawn face-cam whose reactions we know.

The demo, the tests and the accuracy bench all get their media here, with the truth: when
the streamer rages. `stream` draws the face-cam and makes the sound, as pure functions of
(spec, time); `files` scripts the moments into a spec and writes the video and its label;
`replay` writes the chat that answers those moments.
Callers import the package: `from autotosis.demo import synth`, then `synth.make_stream(...)`.
"""

from autotosis.demo.synth.files import inset_pixels, make_stream, scripted, write_label
from autotosis.demo.synth.replay import (
    CALM,
    CHAT_DELAY,
    CHATTERS,
    EMOTES,
    REACT,
    ChatSpec,
    chat_messages,
    write_chat,
)
from autotosis.demo.synth.stream import (
    AUDIO_RATE,
    OBS_TRACKS,
    RAGE_RED,
    RAMP,
    Box,
    Colour,
    Streamer,
    StreamSpec,
    audio_chunk,
    audio_chunks,
    audio_parts,
    draw_face,
    facecam_frames,
    intensity,
    talking,
)

__all__ = [
    "AUDIO_RATE", "CALM", "CHATTERS", "CHAT_DELAY", "EMOTES", "OBS_TRACKS", "RAGE_RED", "RAMP", "REACT",
    "Box", "ChatSpec", "Colour", "StreamSpec", "Streamer", "audio_chunk", "audio_chunks", "audio_parts",
    "chat_messages", "draw_face", "facecam_frames", "inset_pixels", "intensity", "make_stream",
    "scripted", "talking", "write_chat", "write_label",
]
