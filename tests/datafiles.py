"""Reference data shipped with the tests (``tests/data/<folder>/``, each folder with a README: source, licence).

A missing file is a test failure, not a skip: the data is part of the repository.
"""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def data_path(*parts) -> Path:
    """``DATA / part / ...``; raises ``FileNotFoundError`` naming the path when it does not exist."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path} (tests/data is part of the repository: "
                                f"git checkout -- {path.relative_to(DATA.parent.parent)})")
    return path
