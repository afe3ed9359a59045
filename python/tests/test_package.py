import re

import incision


def test_version_matches_header(repo_root):
    header = (repo_root / "include" / "incision" / "version.hpp").read_text()
    parts = [re.search(rf"INCISION_VERSION_{p} (\d+)", header).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    assert incision.__version__ == ".".join(parts)


def test_package_is_typed():
    from importlib import resources

    assert resources.files("incision").joinpath("py.typed").is_file()
