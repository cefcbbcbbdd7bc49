"""riskmap: disaster-risk mapping and emergency-shelter planning.

riskmap turns county boundaries, hazard layers, terrain, population, roads
and facilities into risk scores per grid cell and county, road and
helicopter reachability of shelters and supply depots, and maps and reports
that check a prefecture's emergency plan against its targets.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
