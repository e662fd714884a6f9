"""Catalog datasets of mtlsearch's own: a raw-data folder, and Hugging Face save_pretrained folders."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version


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


class PretrainedDataset(AbstractDataset["Pretrained", "Pretrained | None"]):
    """A tokenizer or a causal LM in a ``save_pretrained`` folder, with the fingerprint of what
    built it in ``mtlsearch.json``.

    A model named by Hugging Face id or path (``info["name_or_path"]``) is not copied: the folder
    holds only the reference. Either kind is loaded by
    :func:`~mtlsearch.finetune.base_model.load_pretrained`, the one loader, with the settings the
    info recorded (dtype, 4-bit quantization, the tokenizer's length and pad id), so a model
    loaded from the catalog equals the one first built. With ``missing_ok``,
    loading an absent folder gives ``None``: the nodes that build these artifacts take the
    previous one this way and rebuild only when the fingerprint differs.
    """

    META = "mtlsearch.json"

    def __init__(self, path: str, kind: str, missing_ok: bool = False, metadata: dict[str, Any] | None = None):
        if kind not in ("tokenizer", "model"):
            raise DatasetError(f"kind must be 'tokenizer' or 'model', got {kind!r}")
        self._path = Path(path)
        self._kind = kind
        self._missing_ok = missing_ok
        self.metadata = metadata

    def load(self):
        import json

        from mtlsearch.finetune.base_model import Pretrained, load_pretrained

        meta_file = self._path / self.META
        if not meta_file.is_file():
            if self._missing_ok:
                return None
            raise DatasetError(f"no {self._kind} at '{self._path}': run the pipeline that builds it")
        meta = json.loads(meta_file.read_text())
        source = meta["info"].get("name_or_path") or str(self._path)
        return Pretrained(load_pretrained(self._kind, source, meta["info"]), meta["fingerprint"], meta["info"])

    def save(self, data) -> None:
        import json
        import shutil

        if data.value is None:
            # an evaluator that needs no base artifacts (a score table) built none: keep what is there
            return
        if self._path.exists():
            shutil.rmtree(self._path)
        self._path.mkdir(parents=True)
        if not data.info.get("name_or_path"):
            data.value.save_pretrained(self._path)
        # the meta file is written last: a folder without it is an unfinished save
        (self._path / self.META).write_text(json.dumps({"fingerprint": data.fingerprint, "info": data.info}, indent=2))

    def _exists(self) -> bool:
        return (self._path / self.META).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "kind": self._kind}


class AdapterDataset(AbstractVersionedDataset[Any, Path]):
    """A PEFT adapter folder (``save_pretrained``), versioned; loading gives the folder's path,
    which :func:`mtlsearch.finetune.training.load_adapter` applies to a base model."""

    def __init__(self, path: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        super().__init__(filepath=PurePosixPath(path), version=version, exists_function=lambda p: Path(p).exists())
        self.metadata = metadata

    def load(self) -> Path:
        path = Path(self._get_load_path())
        if not (path / "adapter_config.json").is_file():
            raise DatasetError(f"'{path}' holds no adapter (adapter_config.json is missing)")
        return path

    def save(self, data) -> None:
        path = Path(self._get_save_path())
        if isinstance(data, (str, Path)):
            import shutil

            shutil.copytree(data, path)
        else:
            data.save_pretrained(path)

    def _exists(self) -> bool:
        try:
            return (Path(self._get_load_path()) / "adapter_config.json").is_file()
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._filepath), "version": self._version}
