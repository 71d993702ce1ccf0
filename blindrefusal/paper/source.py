"""Where a release comes from: a directory, a .zip of the repository, or a URL to such a zip; uniform access
to the files of its data/ and prompts/ folders."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from vocabulary import BlindRefusalError

MATRIX = "0_inputs/matrix.json"


class ReleaseError(BlindRefusalError):
    """The release is missing, corrupt or partial. The message names the file."""


class ReleaseFiles:
    """Uniform access to the data folder inside a directory or a zip."""

    def __init__(self, source: str):
        self.source = source
        self._zip: zipfile.ZipFile | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        path = source
        if source.startswith(("http://", "https://")):
            path = self._download(source)
        p = Path(path)
        self.root: Path | str  # the data folder: a directory, or the prefix of its files inside the zip
        if p.is_dir():
            self.root = self._find_dir_root(p)
        elif p.is_file() and zipfile.is_zipfile(p):
            self._zip = zipfile.ZipFile(p)
            self.root = self._find_zip_root(self._zip)
        else:
            raise ReleaseError(f"{source}: not a directory or a zip of the release")

    def _download(self, url: str) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="br-release-")
        target = os.path.join(self._tmp.name, "release.zip")
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as out:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
        except OSError as exc:
            raise ReleaseError(f"{url}: download failed: {exc}") from exc
        return target

    @staticmethod
    def _find_dir_root(p: Path) -> Path:
        for candidate in (p, p / "data"):
            if (candidate / MATRIX).is_file():
                return candidate
        hits = sorted(p.glob("*/data/" + MATRIX))
        if hits:
            return hits[0].parents[1]
        raise ReleaseError(f"{p}: missing {MATRIX} (expected the release's data/ layout)")

    @staticmethod
    def _find_zip_root(zf: zipfile.ZipFile) -> str:
        for name in zf.namelist():
            if name.endswith(MATRIX):
                return name[: -len(MATRIX)]
        raise ReleaseError(f"zip: missing {MATRIX}")

    def list(self, folder: str) -> list[str]:
        if self._zip is not None:
            prefix = str(self.root) + folder + "/"
            return sorted(
                n[len(prefix):] for n in self._zip.namelist()
                if n.startswith(prefix) and n.endswith(".json") and "/" not in n[len(prefix):]
            )
        d = Path(self.root) / folder
        return sorted(f.name for f in d.glob("*.json")) if d.is_dir() else []

    def read_json(self, rel: str) -> Any:
        try:
            if self._zip is not None:
                raw = self._zip.read(str(self.root) + rel)
            else:
                raw = (Path(self.root) / rel).read_bytes()
            return json.loads(raw)
        except KeyError as exc:
            raise ReleaseError(f"{rel}: missing from the release") from exc
        except FileNotFoundError as exc:
            raise ReleaseError(f"{rel}: missing from the release") from exc
        except (ValueError, RecursionError, zipfile.BadZipFile, OSError) as exc:  # ValueError: bad JSON or UTF-8
            raise ReleaseError(f"{rel}: corrupt JSON: {str(exc)[:200]}") from None

    def read_prompt(self, name: str) -> str | None:
        """prompts/<name>.md beside the data folder (the repository layout), or None when the release lacks it."""
        try:
            if self._zip is not None:
                zip_root = str(self.root)
                base = zip_root[: -len("data/")] if zip_root.endswith("data/") else zip_root
                raw = self._zip.read(f"{base}prompts/{name}.md")
            else:
                root = Path(self.root)
                raw = ((root.parent if root.name == "data" else root) / "prompts" / f"{name}.md").read_bytes()
            return raw.decode("utf-8")
        except (KeyError, OSError, UnicodeDecodeError):
            return None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._tmp is not None:
            self._tmp.cleanup()
