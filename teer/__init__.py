"""teer: time-weighted emotion error rates for speech emotion recognition in conversations."""
from .api import score
from .checks import TeerWarning
from .components import Components, Report
from .frames import frames_to_segments
from .segments import InputError, SegmentTable

__all__ = ["score", "TeerWarning", "frames_to_segments", "Components", "Report", "InputError", "SegmentTable"]
__version__ = "0.1.0"
