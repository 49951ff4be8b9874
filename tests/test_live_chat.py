"""Chat in `autotosis live`: a Twitch channel read over IRC from a server speaking Twitch's
protocol on 127.0.0.1, a chat log written as the stream plays, the IRC line parser, faults."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import burst_vod, play

from autotosis.cli.main import cli
from autotosis.core.errors import ChatError
from autotosis.core.timeline import Timeline
from autotosis.signals.chat import ChatMessage, ChatTail, read_chat
from autotosis.signals.chat.irc import TwitchChat, chat_message, parse_channel, parse_line, parse_server

QUICK = ["--pad-before", "2", "--merge-gap", "1"]
CHANNEL = "streamer"


@pytest.fixture(scope="module")
def shout(tmp_path_factory) -> Path:
    """20 s of room noise with a 2 s shout at 0:02, as Matroska (OBS's default)."""
    return burst_vod(tmp_path_factory.mktemp("livechat") / "shout.mkv", 20.0, (2.0, 4.0))


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AUTOTOSIS_TWITCH_IRC", "127.0.0.1:9")  # never Twitch's own server from a test
    return tmp_path


class TwitchServer:
    """Twitch's chat server as an anonymous reader sees it, on 127.0.0.1: welcome (001), the
    JOIN echoed, PRIVMSGs with IRCv3 tags, PING (the PONGs are kept), and a dropped connection."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.heard: list[list[str]] = []  # the lines each connection sent
        self.joined = threading.Event()
        self.connection: socket.socket | None = None
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            lines: list[str] = []
            self.heard.append(lines)
            threading.Thread(target=self._serve, args=(conn, lines), daemon=True).start()

    def _serve(self, conn: socket.socket, lines: list[str]) -> None:
        nick, pending = "", b""
        with conn:
            while True:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                pending += data
                *got, pending = pending.split(b"\r\n")
                for raw in got:
                    line = raw.decode()
                    lines.append(line)
                    if line.startswith("NICK "):
                        nick = line.split()[1]
                        self._send(conn, f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!")
                    elif line.startswith("JOIN "):
                        channel = line.split()[1]
                        self._send(conn, f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN {channel}")
                        self._send(conn, f":{nick}.tmi.twitch.tv 366 {nick} {channel} :End of /NAMES list")
                        with self.lock:
                            self.connection = conn
                        self.joined.set()

    @staticmethod
    def _send(conn: socket.socket, line: str) -> None:
        conn.sendall((line + "\r\n").encode())

    def send(self, line: str) -> None:
        with self.lock:
            conn = self.connection
        if conn is not None:
            self._send(conn, line)

    def say(self, user: str, text: str, emotes: str = "") -> None:
        tags = (f"@badge-info=;badges=;color=#1E90FF;display-name={user.title()};emotes={emotes};"
                f"id=x-{user};room-id=1;tmi-sent-ts={int(time.time() * 1000)};user-type=")
        self.send(f"{tags} :{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #{CHANNEL} :{text}")

    def drop(self) -> None:
        with self.lock:
            conn, self.connection = self.connection, None
        self.joined.clear()
        if conn is not None:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        self.listener.close()


def at(moment: float, since: float) -> None:
    time.sleep(max(0.0, since + moment - time.monotonic()))


def test_irc_lines_parse_as_twitch_writes_them():
    line = parse_line("@badge-info=;display-name=Al\\sB;emotes=25:0-4,12-16/1902:6-10;"
                      "tmi-sent-ts=1 :alice!alice@alice.tmi.twitch.tv PRIVMSG #chan :Kappa Keepo Kappa\r\n")
    assert line.command == "PRIVMSG" and line.nick == "alice"
    assert line.params == ("#chan", "Kappa Keepo Kappa")
    assert line.tags["display-name"] == "Al B" and line.tags["badge-info"] == ""
    message = chat_message(line)
    assert message is not None and message.author == "alice" and message.text == "Kappa Keepo Kappa"
    assert message.emotes == ("Kappa", "Keepo") and not message.notice
    ping = parse_line("PING :tmi.twitch.tv")
    assert ping.command == "PING" and ping.params == ("tmi.twitch.tv",) and ping.nick == ""
    action = chat_message(parse_line(":bob!bob@bob.tmi.twitch.tv PRIVMSG #chan :\x01ACTION waves\x01"))
    assert action is not None and action.author == "bob" and action.text == "waves" and action.emotes == ()
    sub = chat_message(parse_line("@login=carol;msg-id=sub;system-msg=carol\\ssubscribed :tmi.twitch.tv "
                                  "USERNOTICE #chan"))
    assert sub is not None and sub.notice and sub.author == "carol" and sub.text == "carol subscribed"
    assert chat_message(parse_line(":tmi.twitch.tv 001 justinfan1 :Welcome, GLHF!")) is None
    with pytest.raises(ChatError):
        parse_line("@a=b ")
    assert parse_channel("twitch:SomeOne_42") == "someone_42" and parse_channel("twitch:#x") == "x"
    for bad in ("twitch:", "twitch:two words", "twitch:a-b", "twitch:" + "x" * 26):
        with pytest.raises(ChatError):
            parse_channel(bad)
    assert parse_server("127.0.0.1:6667") == ("127.0.0.1", 6667)
    assert parse_server(None) == ("irc.chat.twitch.tv", 6667)
    for bad in ("localhost", "host:0", "host:http", ":6667"):
        with pytest.raises(ChatError):
            parse_server(bad)


def test_twitch_reader_backs_off_while_the_server_is_away():
    """Nobody listening: each try is one line, the waits double up to the cap; then a server
    comes up on that port and the reader joins it and hands over what is said there."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # refused from now on
    notes: list[str] = []
    got: list[ChatMessage] = []
    reader = TwitchChat(CHANNEL, lambda _, message: got.append(message), notes.append, ("127.0.0.1", port),
                        backoff=(0.1, 0.4))
    reader.start()
    deadline = time.monotonic() + 10
    while len(notes) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    waits = [re.search(r"reconnecting in ([\d.]+)s", note)[1] for note in notes[:5]]  # type: ignore[index]
    assert waits == ["0.1", "0.2", "0.4", "0.4", "0.4"], notes
    assert all(note.startswith(f"chat: cannot join #{CHANNEL} on 127.0.0.1:{port}") for note in notes)
    server = TwitchServer(port)
    try:
        assert server.joined.wait(5)
        server.say("alice", "hi there")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        reader.close()
        server.close()
    assert [(m.author, m.text) for m in got] == [("alice", "hi there")]
    assert notes[-1] == f"chat: reading #{CHANNEL} on 127.0.0.1:{port}"


def test_chat_tail_reads_complete_lines_as_they_are_written(tmp_path):
    log = tmp_path / "chat.log"
    log.write_text("")
    tail = ChatTail(log)
    assert tail.read() == ([], [])
    with open(log, "a") as handle:
        handle.write("[0:00:01] alice: hi\n[0:00:02] bob: KEK")
    messages, problems = tail.read()
    assert [(m.time, m.author, m.text) for m in messages] == [(1.0, "alice", "hi")] and problems == []
    with open(log, "a") as handle:
        handle.write("W\nnot chat at all\n[0:00:03] carol: LUL\n")
    messages, problems = tail.read()
    assert [(m.author, m.text) for m in messages] == [("bob", "KEKW"), ("carol", "LUL")]
    assert len(problems) == 1 and "line 3: expected '[h:mm:ss]" in problems[0] and tail.format == "log"
    whole = tmp_path / "replay.json"
    whole.write_text(json.dumps([{"time_in_seconds": 4.5, "message": "Pog", "author": {"name": "dan"}}]))
    replay = ChatTail(whole)
    assert [m.time for m in replay.read()[0]] == [4.5] and replay.read() == ([], [])
    with pytest.raises(ChatError, match="no such chat file"):
        ChatTail(tmp_path / "missing.log")


def test_twitch_chat_burst_makes_a_clip(shout, project):
    """A burst of KEKW 14 s into the stream, where the sound is quiet: the fused score rises
    there and a clip is cut, apart from the shout's; the server is PINGed and answered."""
    server = TwitchServer()
    growing = project / "rec" / "shout.mkv"
    growing.parent.mkdir()

    def chat(started: float) -> None:
        if not server.joined.wait(10):
            return
        server.send("PING :tmi.twitch.tv")
        for k, moment in enumerate(np.arange(3.0, 19.0, 1.5)):  # ordinary chatter all along
            at(moment, started)
            server.say(f"regular{k % 4}", "nice run so far")
            if abs(moment - 13.5) < 0.8:
                for n in range(15):
                    server.say(f"viewer{n}", "KEKW KEKW", emotes="emotesv2_1:0-3,5-8")

    player = play(shout, growing)
    threading.Thread(target=chat, args=(time.monotonic(),), daemon=True).start()
    try:
        result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", "--scorer", "loudness+chat",
                                          "--chat", f"twitch:{CHANNEL.upper()}", "--chat-server",
                                          f"127.0.0.1:{server.port}", "--chat-delay", "0",
                                          "--threshold", "0.4", *QUICK])
    finally:
        player.kill()
        server.close()
    assert result.exit_code == 0, result.output
    assert f"chat: reading #{CHANNEL} on 127.0.0.1:{server.port}" in result.output
    sent = server.heard[0]
    assert "PASS SCHMOOPIIE" in sent and f"JOIN #{CHANNEL}" in sent and "PONG :tmi.twitch.tv" in sent
    assert any(re.fullmatch(r"NICK justinfan\d+", line) for line in sent)
    out = project / "output" / "shout"
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert [r["start"] <= 2.0 and r["end"] >= 4.0 for r in rows] == [True, False], rows
    assert rows[1]["start"] <= 13.5 <= rows[1]["end"] and (out / rows[1]["file"]).exists()
    chat = Timeline.columns_from_csv(out / "chat.csv")["chat_score"]
    assert chat.values.max() > 0.9 and 11.0 <= float(chat.times[chat.values.argmax()]) <= 16.5
    loud = Timeline.from_csv(out / "loudness.csv")
    scores = Timeline.from_csv(out / "scores.csv")
    quiet = (scores.times > 12) & (scores.times < 15)
    assert loud.values[quiet].max() < loud.values.max() - 20  # quiet there: chat made that clip
    assert scores.values[quiet].max() > 0.45
    options = json.loads((out / "options.json").read_text())
    assert options["chat"]["twitch"] == CHANNEL and options["chat"]["delay"] == 0
    assert re.search(r"clip\(s\)  chat \d+ msg", result.output)  # the status line counts the messages


def test_twitch_chat_reconnects_after_a_drop(project, tmp_path):
    """The server drops the reader mid-stream: one line says so, the stream goes on, the
    reader is back about a second later and what is said after that is counted. What was
    said is kept in chat.log, and a rerun on the stream resumes it while nobody listens."""
    (tmp_path / "src").mkdir()
    source = burst_vod(tmp_path / "src" / "short.mkv", 9.0, (2.0, 3.5))
    server = TwitchServer()
    growing = project / "short.mkv"

    def chat(started: float) -> None:
        if not server.joined.wait(10):
            return
        for n in range(3):
            server.say(f"early{n}", "hello")
        at(3.0, started)
        server.drop()
        if not server.joined.wait(10):
            return
        for n in range(5):
            server.say(f"late{n}", "welcome back")

    player = play(source, growing)
    threading.Thread(target=chat, args=(time.monotonic(),), daemon=True).start()
    try:
        result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", "--no-reel",
                                          "--scorer", "loudness+chat", "--chat", f"twitch:{CHANNEL}"],
                                    env={"AUTOTOSIS_TWITCH_IRC": f"127.0.0.1:{server.port}"})
    finally:
        player.kill()
        server.close()
    assert result.exit_code == 0, result.output
    where = f"#{CHANNEL} on 127.0.0.1:{server.port}"
    assert (f"chat: lost {where} (the server closed the connection); reconnecting in 1s" in result.output)
    assert f"chat: reconnected to {where}" in result.output
    assert len(server.heard) == 2 and all(f"JOIN #{CHANNEL}" in lines for lines in server.heard)
    assert "chat: 8 messages (twitch-irc)" in result.output, result.output
    assert "stream ended (idle)" in result.output
    kept = read_chat(project / "output" / "short" / "chat.log")  # timed: compile --chat reads it
    assert sorted(m.author for m in kept.messages) == sorted([f"early{n}" for n in range(3)] +
                                                             [f"late{n}" for n in range(5)])
    assert all(0 <= m.time <= 9.5 for m in kept.messages)
    again = CliRunner().invoke(cli, ["live", str(growing), "--idle", "0.5", "--no-reel", "--scorer",
                                     "loudness+chat", "--chat", f"twitch:{CHANNEL}"],
                               env={"AUTOTOSIS_TWITCH_IRC": f"127.0.0.1:{server.port}"})
    assert again.exit_code == 0, again.output  # nobody listens now: the stream is still followed
    assert "chat: 8 messages from an earlier run (chat.log)" in again.output
    assert "chat: 8 messages (twitch-irc)" in again.output


def test_chat_log_written_as_the_stream_plays(shout, project):
    """A chat log growing beside the recording: chat's delay is estimated as the stream goes,
    and at the end chat.csv and the highlights are what compile finds on the finished files."""
    growing = project / "rec" / "shout.mkv"
    growing.parent.mkdir()
    log = project / "rec" / "chat.log"
    log.write_text("")
    lines = [(t, f"[0:00:{t:02d}] regular{t % 4}: nice run so far") for t in range(1, 20, 2)]
    lines += [(t, f"[0:00:{t:02d}] viewer{n}: KEKW") for n in range(12) for t in (5, 6)][::2]
    lines.sort()

    def write(started: float) -> None:
        for moment, line in lines:
            at(moment + 0.3, started)
            with open(log, "a") as handle:
                handle.write(line + "\n")

    player = play(shout, growing)
    threading.Thread(target=write, args=(time.monotonic(),), daemon=True).start()
    result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", "--chat", str(log), *QUICK])
    player.wait(5)
    assert result.exit_code == 0, result.output
    assert re.search(r"chat: delay \d(\.5)?s \(estimated against loudness on the stream so far",
                     result.output)
    assert f"chat: {len(lines)} messages (log)" in result.output
    out = project / "output" / "shout"
    compiled = CliRunner().invoke(cli, ["compile", str(growing), "--chat", str(log), *QUICK,
                                        "--out", str(project / "compiled")])
    assert compiled.exit_code == 0, compiled.output
    assert (out / "chat.csv").read_text() == (project / "compiled" / "chat.csv").read_text()
    ours = json.loads((out / "segments.json").read_text())["segments"]
    theirs = json.loads((project / "compiled" / "segments.json").read_text())["segments"]
    assert len(ours) == len(theirs) == 1
    assert abs(ours[0]["start"] - theirs[0]["start"]) <= 0.5 and abs(ours[0]["end"] - theirs[0]["end"]) <= 0.5
    delays = [json.loads((folder / "options.json").read_text())["chat"]["delay"]
              for folder in (out, project / "compiled")]
    assert delays[0] == delays[1]


def test_bad_chat_is_one_line(project, tmp_path):
    recording = str(tmp_path / "rec.mkv")
    for args, said in ((["--chat", str(tmp_path / "nope.log")], "no such chat file"),
                       (["--chat", "twitch:two words"], "not a Twitch channel"),
                       (["--chat", "twitch:ok", "--chat-server", "nowhere"], "give HOST:PORT"),
                       (["--chat", "twitch:ok", "--chat-reactions", "/(/"], "not a valid regular")):
        result = CliRunner().invoke(cli, ["live", recording, "--idle", "0.3", "--scorer", "loudness+chat",
                                          *args])
        assert result.exit_code == 1 and said in result.output, (args, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
