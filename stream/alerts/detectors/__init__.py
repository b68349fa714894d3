"""Per-ticker shift detectors sharing one small API (see ``base.Detector``)."""
from stream.alerts.detectors.base import Baseline, Detector, ShiftDetector
from stream.alerts.detectors.cusum import CUSUM
from stream.alerts.detectors.ewma import EWMAChart
from stream.alerts.detectors.volume import VolumeDetector, WindowCounter

__all__ = ["Baseline", "CUSUM", "Detector", "EWMAChart", "ShiftDetector", "VolumeDetector", "WindowCounter"]
