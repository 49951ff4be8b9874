"""Typed errors: the library raises these, the CLI turns them into one-line messages."""


class AutotosisError(Exception):
    """Base class for every error that is the user's input or environment, not a bug."""


class MediaError(AutotosisError):
    """ffmpeg/ffprobe could not read or write a media file."""


class LabelError(AutotosisError):
    """A label file is missing, malformed or inconsistent with its clip."""


class ModelError(AutotosisError):
    """A checkpoint is missing, corrupt or does not fit the request."""


class DataError(AutotosisError):
    """The labeled data cannot be used as asked (no clips, no positives, ...)."""


class ChatError(AutotosisError):
    """A chat replay file is unreadable or not in a format autotosis knows."""


class DownloadError(AutotosisError):
    """A VOD or its chat could not be downloaded."""


class ConfigError(AutotosisError):
    """autotosis.toml is malformed, names an unknown option or profile, or has a wrong type."""


class SpeechError(AutotosisError):
    """No speech captions: the speech engine or model is missing, unreadable or cannot be fetched."""
