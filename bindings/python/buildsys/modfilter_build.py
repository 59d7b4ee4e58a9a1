"""A minimal PEP 517 build backend for the modfilter package, using the standard library only.

Why not setuptools: building a wheel with setuptools needs the separate ``wheel`` package, which is
not installed with every Python (this machine's pyenv Python 3.11 has setuptools but not wheel, and
PyPI is not reachable). The package is pure Python, so a wheel is just a zip of ``src/modfilter``
plus metadata; this file writes it. ``pip install --no-build-isolation ./bindings/python`` (and
``pip install -e``) work with any pip >= 21.3 and no network.

When built from a repository checkout, the wheel also gets ``modfilter/_buildinfo.py`` naming the
checkout, so the installed package finds ``<checkout>/build/capi/libmodfilter.so`` by itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "modfilter"
VERSION = "0.1.0"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
SRC = os.path.join(HERE, "src", NAME)
ROOT = os.path.dirname(os.path.dirname(HERE))  # the repository checkout
TAG = "py3-none-any"
DIST_INFO = "%s-%s.dist-info" % (NAME, VERSION)


def _metadata() -> str:
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\nVersion: %s\n"
        "Summary: Python bindings for modfilter, an embedded moderation filter (libmodfilter's C ABI)\n"
        "Requires-Python: >=3.8\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Typing :: Typed\n"
        "Description-Content-Type: text/markdown\n\n%s" % (NAME, VERSION, readme)
    )


def _wheel_file() -> str:
    return "Wheel-Version: 1.0\nGenerator: modfilter_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG


def _buildinfo() -> str | None:
    if os.path.exists(os.path.join(ROOT, "capi", "include", "modfilter", "modfilter.h")):
        return (
            '"""Generated when the wheel was built: the checkout it was built from."""\n'
            "SOURCE_ROOT = %r\n" % ROOT
        )
    return None


def _package_files():
    for dirpath, dirnames, filenames in os.walk(SRC):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith((".py", ".pyi")) or fn == "py.typed":
                if fn == "_buildinfo.py":
                    continue
                full = os.path.join(dirpath, fn)
                yield os.path.relpath(full, os.path.dirname(SRC)).replace(os.sep, "/"), full


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def _write_wheel(wheel_directory: str, entries) -> str:
    filename = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries:
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        for arcname, text in (
            (DIST_INFO + "/METADATA", _metadata()),
            (DIST_INFO + "/WHEEL", _wheel_file()),
        ):
            data = text.encode("utf-8")
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(DIST_INFO + "/RECORD,,")
        zf.writestr(DIST_INFO + "/RECORD", "\n".join(records) + "\n")
    return filename


# ---- PEP 517 hooks ----


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(path, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return DIST_INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for arcname, full in _package_files():
        with open(full, "rb") as f:
            entries.append((arcname, f.read()))
    info = _buildinfo()
    if info:
        entries.append((NAME + "/_buildinfo.py", info.encode("utf-8")))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # The source tree itself goes on sys.path; the build tree is found relative to it.
    pth = os.path.dirname(SRC) + "\n"
    return _write_wheel(wheel_directory, [("%s.pth" % NAME, pth.encode("utf-8"))])


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, VERSION)
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tf:
        for rel in ("pyproject.toml", "README.md", "buildsys/modfilter_build.py"):
            tf.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel))
        for arcname, full in _package_files():
            tf.add(full, arcname="%s/src/%s" % (base, arcname))
        data = _metadata().encode("utf-8")
        ti = tarfile.TarInfo("%s/PKG-INFO" % base)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return filename
