"""A small client of Chromium's DevTools protocol over a WebSocket, standard library only, for
the browser tests: start a headless Chromium, open a page, evaluate JavaScript, send real
mouse and wheel events (``Input.dispatchMouseEvent``)."""
from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path


class Browser:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, chromium: str, profile: Path, flags: list[str], width: int = 1280, height: int = 1000):
        self.process = subprocess.Popen(
            [chromium, *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = self._port(profile)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
                pages = [t for t in json.loads(answer.read()) if t["type"] == "page"]
            self.socket = _connect(pages[0]["webSocketDebuggerUrl"])
        except BaseException:
            self.close()
            raise
        self.next_id = 0
        self.events: list[dict] = []
        self.call("Runtime.enable")

    def _port(self, profile: Path) -> int:
        # Chromium writes the port it chose to DevToolsActivePort in its profile
        path = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists():
                lines = path.read_text().split()
                if lines:
                    return int(lines[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.process.returncode}")
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        _send(self.socket, json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(_receive(self.socket))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready: str, timeout: float = 60) -> None:
        """Navigate to ``url`` and wait until the expression ``ready`` is true."""
        self.call("Page.navigate", url=url)
        self.wait_until(ready, timeout, what=url)

    def wait_until(self, condition: str, timeout: float = 60, what: str = "page") -> None:
        """Poll until the expression ``condition`` is true: a loaded machine may take seconds
        to run the page's observers, so tests wait for a state rather than a fixed time."""
        deadline = time.monotonic() + timeout
        # (until the new document has a body, ``condition`` may throw: not ready yet)
        while not self.evaluate(f"(function(){{try{{return !!({condition});}}catch(e){{return false;}}}})()"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: {condition} did not become true")
            time.sleep(0.05)

    def mouse(self, kind: str, x: float, y: float, **extra) -> None:
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, **extra)

    def close(self) -> None:
        sock = getattr(self, "socket", None)
        if sock is not None:
            sock.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _connect(url: str) -> socket.socket:
    host, port, path = re.fullmatch(r"ws://([^:/]+):(\d+)(/.*)", url).groups()
    sock = socket.create_connection((host, int(port)), timeout=60)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("the DevTools socket closed during the handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"no WebSocket: {head[:200]!r}")
    return sock


def _send(sock: socket.socket, text: str) -> None:
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                              bytes([0x80 | 126]) + struct.pack(">H", n) if n < 1 << 16 else
                              bytes([0x80 | 127]) + struct.pack(">Q", n))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("the DevTools socket closed")
        out += chunk
    return out


def _receive(sock: socket.socket) -> str:
    """One text message (continuation frames joined; the server's frames are not masked)."""
    parts = []
    while True:
        first, second = _exactly(sock, 2)
        n = second & 0x7F
        if n == 126:
            n = struct.unpack(">H", _exactly(sock, 2))[0]
        elif n == 127:
            n = struct.unpack(">Q", _exactly(sock, 8))[0]
        payload = _exactly(sock, n)
        if first & 0x0F == 0x9:  # ping: answer, and read on
            continue
        parts.append(payload)
        if first & 0x80:
            return b"".join(parts).decode()
