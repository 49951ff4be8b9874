"""Chat replay: the streamer's audience as a highlight signal, before any model is trained.

`replay` reads the four replay formats into messages and finds a replay next to its VOD;
`tail` reads a chat log still being written, `irc` a Twitch channel's chat as it is typed
(both for `autotosis live`); `timeline` weighs the messages into a 0..1 score over the VOD
and estimates how far chat lags it. Callers import the package: `from autotosis.signals import chat`, then
`chat.read_chat(...)`; the names below are its public ones.
"""

from autotosis.signals.chat.incremental import ChatTally
from autotosis.signals.chat.replay import (
    CHAT_SUFFIXES,
    LINE_FORMATS,
    LOG_LINE,
    ChatMessage,
    ChatReplay,
    find_chat,
    line_format,
    parse_lines,
    read_chat,
)
from autotosis.signals.chat.tail import ChatTail
from autotosis.signals.chat.timeline import (
    ALL_CAPS,
    BOTS,
    BURST_RATIO_LOG2,
    BURST_SLOPE_LOG2,
    CAPS,
    CHATTER_WEIGHT,
    DEFAULT_DELAY,
    DEFAULT_PATTERNS,
    DEFAULT_REACTIONS,
    DELAY_RANGE,
    LETTERS,
    MIN_DELAY_CORRELATION,
    NOTICE,
    REACTION_WEIGHT,
    ChatConfig,
    ChatTimeline,
    chat_timeline,
    estimate_delay,
    message_weight,
    parse_reactions,
)

__all__ = [
    "ALL_CAPS", "BOTS", "BURST_RATIO_LOG2", "BURST_SLOPE_LOG2", "CAPS", "CHATTER_WEIGHT", "CHAT_SUFFIXES",
    "DEFAULT_DELAY", "DEFAULT_PATTERNS", "DEFAULT_REACTIONS", "DELAY_RANGE", "LETTERS", "LINE_FORMATS",
    "LOG_LINE", "MIN_DELAY_CORRELATION", "NOTICE", "REACTION_WEIGHT", "ChatConfig", "ChatMessage",
    "ChatReplay", "ChatTail", "ChatTally", "ChatTimeline", "chat_timeline", "estimate_delay", "find_chat",
    "line_format", "message_weight", "parse_lines", "parse_reactions", "read_chat",
]
