#!/usr/bin/env bash
# Sets up everything autotosis needs, idempotently: system programs (ffmpeg, a font for
# captions; with --test Chromium, the editing engines GES and melt, and espeak-ng, whose speech the
# caption tests transcribe), a virtual environment in .venv and the Python packages (with the speech
# model for `--captions speech`).
# Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need_apt=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if [ "$want_test" = 1 ]; then
    [ -x /usr/bin/chromium ] || need_apt+=(chromium)
    # Real editing engines render the editor projects (tests/test_editor_engines.py): GES with
    # the GStreamer plugins that decode and encode H.264 and AAC in MP4, and MLT's melt; espeak-ng
    # speaks the sentences the speech caption tests transcribe (tests/test_speech.py).
    engines=(ges1.0-tools gstreamer1.0-libav gstreamer1.0-plugins-ugly gstreamer1.0-plugins-good
             gstreamer1.0-plugins-base melt espeak-ng)
    if command -v dpkg-query >/dev/null 2>&1; then
        for package in "${engines[@]}"; do
            dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || need_apt+=("$package")
        done
    elif ! command -v ges-launch-1.0 >/dev/null 2>&1 || ! command -v melt >/dev/null 2>&1 \
            || ! command -v espeak-ng >/dev/null 2>&1; then
        need_apt+=("${engines[@]}")
    fi
fi

if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
        echo "setup: installing ${need_apt[*]} with apt-get"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    else
        echo "setup: please install ${need_apt[*]} with your package manager (no apt-get here)" >&2
        exit 1
    fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || { echo "setup: Python 3.10 or newer is needed ($python is older)" >&2; exit 1; }
    echo "setup: creating .venv"
    "$python" -m venv .venv
fi

# This machine's pip config lists local wheel folders that pip warns about on every call,
# and setuptools warns about every editable install: neither is for the user.
quiet_pip() {
    PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q "$@" 2>&1 \
        | { grep -v "^WARNING: Location 'file:" || true; }
    return "${PIPESTATUS[0]}"
}

extras="[speech]"
stamp=".venv/.autotosis-installed"
if [ "$want_test" = 1 ]; then
    extras="[test,speech]"
    stamp="$stamp-test"
fi
fingerprint=$(cat setup.cfg requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ]; then
    echo "setup: installing Python packages into .venv (torch is large: the first time takes minutes)"
    quiet_pip --upgrade pip
    quiet_pip -r requirements.txt
    quiet_pip -e ".$extras"
    echo "$fingerprint" > "$stamp"
fi
