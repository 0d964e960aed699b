"""Packs the Python package spyglass_rs as a wheel around an extension module built
by cargo (the workspace's own build of crates/spyglass-py: scripts/python-test.sh),
so that the tests install what `pip install ./python` (maturin) would, without
building the crates a second time with another feature set.

    python scripts/python-wheel.py LIBSPYGLASS_PY_SO OUT_DIR
"""

import base64
import hashlib
import os
import pathlib
import re
import sys
import zipfile

root = pathlib.Path(__file__).resolve().parents[1]
so, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
version = re.search(
    r'^version = "([^"]+)"', (root / "Cargo.toml").read_text(), re.M
).group(1)
tag = "cp39-abi3-linux_x86_64"
dist = f"spyglass_rs-{version}.dist-info"
files = {}
for p in sorted((root / "python" / "spyglass_rs").rglob("*.py")):
    files[p.relative_to(root / "python").as_posix()] = p.read_bytes()
files["spyglass_rs/_native.abi3.so"] = so.read_bytes()
files[f"{dist}/METADATA"] = (
    f"Metadata-Version: 2.1\nName: spyglass_rs\nVersion: {version}\n"
    "Requires-Python: >=3.9\nRequires-Dist: numpy>=1.22\nRequires-Dist: pandas>=1.5\n"
).encode()
files[f"{dist}/WHEEL"] = (
    f"Wheel-Version: 1.0\nGenerator: spyglass-rs python-wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
).encode()


def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


record = "".join(f"{name},sha256={digest(data)},{len(data)}\n" for name, data in files.items())
record += f"{dist}/RECORD,,\n"
out_dir.mkdir(parents=True, exist_ok=True)
wheel = out_dir / f"spyglass_rs-{version}-{tag}.whl"
tmp = wheel.with_suffix(".tmp")
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in files.items():
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
        z.writestr(info, data, zipfile.ZIP_DEFLATED)
    z.writestr(f"{dist}/RECORD", record)
os.replace(tmp, wheel)
print(wheel)
