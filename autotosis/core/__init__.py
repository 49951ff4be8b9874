"""The ground floor every stage stands on: errors, paths, time, files, config and the timeline.

Holds the typed errors, project paths, the one time type (`timecode`), atomic file writes
(`fsutil`), TOML reading, the label palette, hardware detection, ranking metrics, the project
config (`autotosis.toml`) and the `Timeline`/`Segment` types that every stage passes on.
May import: the standard library and numpy only, never another autotosis package.
"""
