"""The deterministic demo district: Xuhui's real outline, units and committees, with generated
compounds, buildings, registers and work orders. See ``data/README.md`` for what is real.

``build_demo`` is pure (no database); ``write_demo`` puts its result into the database.
"""

from dashboard.demo.build import DEMO_SEED, DEMO_TODAY, DemoDistrict, build_demo
from dashboard.demo.write import write_demo

__all__ = ["DEMO_SEED", "DEMO_TODAY", "DemoDistrict", "build_demo", "write_demo"]
