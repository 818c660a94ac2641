"""Words for the names the tables carry: scenario parameters by dotted path, and the
snake_case keys of plans and solver results, with the unit their suffix names.

>>> parameter_label("policies.replenishment.1.policy.reorder_point")
'replenishment rule 1: reorder point'
>>> parameter_label("markets.US.duty_rate")
'US: duty rate'
>>> key_label("logistics_cost_per_unit_cny"), key_label("committed_units")
('logistics cost [CNY/unit]', 'committed [units]')
"""

from __future__ import annotations

CONTAINERS = {"markets", "warehouses", "suppliers", "skus", "modes", "lanes", "ad_channels",
              "carriers", "policies", "policy", "calendar", "horizon"}
"""Path parts that only say where a field sits."""

LISTS = {"replenishment": "replenishment rule", "peak_events": "peak event",
         "disruptions": "disruption", "shutdowns": "shutdown"}

UNITS = (("_per_unit_cny", "CNY/unit"), ("_per_unit_served", "CNY/unit"),
         ("_cny_per_unit", "CNY/unit"), ("_cny_per_day", "CNY/day"), ("_cny", "CNY"),
         ("_units", "units"), ("_days", "days"), ("_pct", "%"), ("_hours", "hours"))

WORDS = {"roas": "ROAS", "pwl": "piecewise-linear", "ws": "WS", "eev": "EEV", "rp": "RP",
         "vss": "VSS", "evpi": "EVPI", "ppc": "PPC", "sku": "SKU", "skus": "SKUs",
         "ev": "EV", "mip": "MIP", "cs": "service", "sla": "SLA"}


def _words(text: str) -> str:
    return " ".join(WORDS.get(w, w) for w in text.split("_") if w)


def parameter_label(path: str) -> str:
    """A scenario field named for people: the thing it belongs to, then the field."""
    parts = path.split(".")
    owner: list[str] = []
    for i, part in enumerate(parts[:-1]):
        if part.isdigit():
            owner[-1:] = [f"{LISTS.get(parts[i - 1], _words(parts[i - 1]))} {part}"]
        elif part not in CONTAINERS:
            owner.append(_words(part))
    field = _words(parts[-1])
    return f"{' '.join(owner)}: {field}" if owner else field


def key_label(key: str) -> str:
    """A snake_case key in words, with the unit its suffix names in brackets."""
    for suffix, unit in UNITS:
        if key.endswith(suffix):
            return f"{_words(key.removesuffix(suffix)) or 'value'} [{unit}]"
    return _words(key)
