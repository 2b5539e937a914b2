"""The package's PEP 517 build backend: setuptools when this interpreter can build wheels with
it, else a wheel written here from the standard library, so that an offline
``pip install ./python`` works with or without build isolation."""

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _setuptools():
    """setuptools' backend, when it is installed and can make a wheel here."""
    try:
        import setuptools
        from setuptools import build_meta
    except ImportError:
        return None
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
    if version < (61, 0):
        return None  # no [project] table support
    if version < (70, 1):
        try:
            import wheel  # noqa: F401 - older setuptools builds wheels through it
        except ImportError:
            return None
    return build_meta


def _project() -> dict:
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _dist_name(project: dict) -> str:
    return "%s-%s" % (project["name"].replace("-", "_"), project["version"])


def _metadata(project: dict) -> str:
    with open(os.path.join(HERE, project["readme"]), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\nRequires-Python: %s\n"
        "Description-Content-Type: text/markdown\n\n%s"
        % (project["name"], project["version"], project["description"], project["requires-python"], readme)
    )


def _sources():
    """(path in the archive, path on disk) of every module of the package."""
    for root, dirs, files in os.walk(os.path.join(HERE, "siphon")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield os.path.relpath(path, HERE).replace(os.sep, "/"), path


def _write_wheel(wheel_directory: str, files: dict[str, bytes]) -> str:
    project = _project()
    dist = _dist_name(project)
    info = dist + ".dist-info"
    files = dict(files)
    files[info + "/METADATA"] = _metadata(project).encode("utf-8")
    files[info + "/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: siphon_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    wheel_name = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel_name


def get_requires_for_build_wheel(config_settings=None):
    backend = _setuptools()
    return backend.get_requires_for_build_wheel(config_settings) if backend else []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    backend = _setuptools()
    if backend is not None:
        return backend.build_wheel(wheel_directory, config_settings, metadata_directory)
    files = {}
    for name, path in _sources():
        with open(path, "rb") as f:
            files[name] = f.read()
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel holding only a .pth file that puts this directory on sys.path."""
    return _write_wheel(wheel_directory, {"siphon_editable.pth": (HERE + "\n").encode("utf-8")})


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    dist = _dist_name(project)
    names = ["pyproject.toml", project["readme"], "_build/siphon_build.py"] + [n for n, _ in _sources()]
    name = dist + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        for member in names:
            archive.add(os.path.join(HERE, member), arcname=dist + "/" + member)
        metadata = _metadata(project).encode("utf-8")
        entry = tarfile.TarInfo(dist + "/PKG-INFO")
        entry.size = len(metadata)
        archive.addfile(entry, io.BytesIO(metadata))
    return name
