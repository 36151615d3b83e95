import sys
from pathlib import Path

# The project is flat files at the repository root (model.py, echo.py, ...): make them importable
# however pytest is started.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
