"""Learning the streamer's reactions: label files, the face-cam box, crops, the model, training.

`labels` reads and writes the TOML label files, `facecam` proposes the face-cam box,
`dataset` turns labeled spans into cached crop arrays, `model` builds, saves and loads the
ResNet-18 checkpoint, `train` drives a training run around `loop`'s epochs (`trainconfig`
holds its defaults).
May import: `core`, `media`, `pick`.
"""
