"""A PEP 517 build backend in the standard library only, so that
``pip install ./sdk/python`` needs no package index: pip has nothing to fetch
to build the wheel (``requires = []``). It packs ``klaxon/`` into a pure
Python wheel; ``build_editable`` points a ``.pth`` file at the source tree.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

NAME = "klaxon"
VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
TAG = "py3-none-any"


def _metadata() -> str:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {VERSION}\n"
        "Summary: Python SDK of Klaxon, a durable execution engine for AI-agent jobs\n"
        "Requires-Python: >=3.10\n"
        "Description-Content-Type: text/markdown\n\n" + text
    )


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: klaxon_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, files: dict[str, bytes]) -> str:
    files = dict(files)
    files[f"{DIST_INFO}/METADATA"] = _metadata().encode()
    files[f"{DIST_INFO}/WHEEL"] = _wheel_file().encode()
    record_path = f"{DIST_INFO}/RECORD"
    record = [_record_line(p, d) for p, d in files.items()] + [f"{record_path},,"]
    files[record_path] = ("\n".join(record) + "\n").encode()
    name = f"{NAME}-{VERSION}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    return name


def _package_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted((ROOT / NAME).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed"):
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    return files


def get_requires_for_build_wheel(config_settings: object = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: object = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: object = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: object = None) -> str:
    target = Path(metadata_directory) / DIST_INFO
    target.mkdir(parents=True, exist_ok=True)
    (target / "METADATA").write_text(_metadata(), encoding="utf-8")
    (target / "WHEEL").write_text(_wheel_file(), encoding="utf-8")
    return DIST_INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: object = None, metadata_directory: object = None) -> str:
    return _write_wheel(wheel_directory, _package_files())


def build_editable(wheel_directory: str, config_settings: object = None, metadata_directory: object = None) -> str:
    return _write_wheel(wheel_directory, {f"_{NAME}_editable.pth": (str(ROOT) + "\n").encode()})


def build_sdist(sdist_directory: str, config_settings: object = None) -> str:
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as sdist:
        for rel in ["pyproject.toml", "README.md", "_build/klaxon_build.py", *_package_files()]:
            path = ROOT / rel
            if path.exists():
                sdist.add(str(path), arcname=f"{base}/{rel}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return name
