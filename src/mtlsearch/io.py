"""Catalog datasets of mtlsearch's own: a raw-data folder, and Hugging Face save_pretrained folders."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError


class RawDirectory(AbstractDataset[None, Path]):
    """A read-only folder of raw data in native formats; loading it gives its path.

    The readers stream the files under it themselves (each native format has its own reader),
    so the catalog hands over the location, checked to exist, rather than file contents.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path).expanduser()
        self.metadata = metadata

    def load(self) -> Path:
        path = self._path.resolve()
        if not path.is_dir():
            raise DatasetError(
                f"raw-data folder '{path}' does not exist; set MTLSEARCH_RAW_DIR or put the "
                f"datasets under data/01_raw/<dataset_id>/"
            )
        return path

    def save(self, data: None) -> None:
        raise DatasetError("the raw-data folder is read-only")

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(PurePosixPath(self._path))}
