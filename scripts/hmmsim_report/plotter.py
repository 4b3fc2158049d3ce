"""The Plotter every figure of a page is drawn with."""
import base64
import io
import sys

from .html_page import esc
from .stats_files import fail

DPI = 90


class Plotter:
    """matplotlib with the Agg backend, made deterministic; figures to base64 PNG <img> tags.

    matplotlib is imported at the first figure, so bad input is reported first."""

    def __init__(self):
        self.plt = None

    def _start(self):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from PIL import Image
        except ImportError as e:
            fail("matplotlib is not importable by %s (%s): install Debian's python3-matplotlib "
                 "(apt-get install python3-matplotlib), or point HMMSIM_PYTHON at a python3 that has it"
                 % (sys.executable, e))
        matplotlib.rcParams.update({
            "svg.hashsalt": "hmmsim", "font.size": 9, "axes.titlesize": 10, "axes.grid": True,
            "grid.alpha": 0.3, "legend.fontsize": 8, "figure.dpi": DPI, "savefig.dpi": DPI,
            "path.simplify": True})
        self.plt = plt
        self.Image = Image

    def figure(self, w, h, rows=1, cols=1, **kw):
        if self.plt is None:
            self._start()
        return self.plt.subplots(rows, cols, figsize=(w, h), squeeze=False, **kw)

    def img(self, fig, alt):
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        self.plt.close(fig)
        # A palette of 128 colours (Pillow, which matplotlib needs anyway):
        # the PNG shrinks about threefold and the plot looks the same.
        small = io.BytesIO()
        self.Image.open(buf).convert("RGB").quantize(128).save(small, format="png", optimize=True)
        data = base64.b64encode(small.getvalue()).decode("ascii")
        return '<img alt="%s" src="data:image/png;base64,%s">' % (esc(alt), data)
