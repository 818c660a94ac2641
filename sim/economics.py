"""Unit economics: the one home of every per-unit money formula.

The simulator books these amounts order by order; the optimisers price routes and lost
sales with them; the reports and benchmarks explain them. Writing each formula once keeps
a plan's prediction and the simulation's ledger on the same terms.

    chargeable kg         = max(weight, volume x volumetric factor)   (air: 167 kg per m3)
    freight per unit      = per unit + per kg x chargeable kg + per m3 x volume
    freight of a load     = containers x per container + per kg x chargeable kg
                            + per m3 x volume + per unit x units       (bulk main leg)
    VAT in a price        = price x vat / (1 + vat)        (marketplace prices include VAT)
    price ex VAT          = price - VAT in it
    commission            = commission rate x price incl. VAT
    payment fee           = payment fee rate x price incl. VAT
    net revenue per unit  = price ex VAT - commission - payment fee
    parcel duty           = duty rate x value ex VAT   if value ex VAT > de minimis,
                            else the low-value flat duty (0 unless a tax change sets it)
    import duty (bulk)    = duty rate x customs value (the goods' product cost)
    import VAT (bulk)     = VAT rate x (customs value + import duty)   (recovered later)
    export VAT rebate     = purchase value / (1 + purchase VAT) x rebate rate
    landed cost per unit  = product + inbound freight + import duty (bulk, capitalised)
                            + parcel duty + outbound freight + pick and pack
    liquidation recovery  = recovery fraction x unit cost      (stock sold off)
    pick and pack         = fee per order + handling labour per unit x units

Commission base. Marketplaces charge their referral fee on the total price the buyer pays,
VAT included: Amazon's referral fee is "a percentage of the total sales price", which in
the EU and UK stores is the VAT-inclusive price, and card processors charge on the amount
collected. So both fees take the VAT-inclusive price as their base, in the simulation and
in every optimiser alike.

Arguments are floats or numpy arrays that broadcast; amounts are in the currency of the
price or rate card they come from (convert with an FX rate where CNY is wanted).
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

Values: TypeAlias = "float | np.ndarray"
"""A float or a numpy array; arguments broadcast against each other."""


def chargeable_kg(weight_kg: Values, volume_m3: Values, kg_per_m3: Values) -> np.ndarray:
    """The weight a carrier bills: actual or volumetric, whichever is larger."""
    return np.maximum(weight_kg, volume_m3 * kg_per_m3)


def freight_per_unit(cost_per_unit: Values, cost_per_kg: Values, cost_per_m3: Values,
                     kg_per_m3: Values, weight_kg: Values, volume_m3: Values) -> np.ndarray:
    """Freight of one unit on a rate card of per-unit, per-kg (chargeable) and per-m3 rates."""
    chargeable = chargeable_kg(weight_kg, volume_m3, kg_per_m3)
    return np.asarray(cost_per_unit + cost_per_kg * chargeable + cost_per_m3 * volume_m3)


def load_freight(containers: int, cost_per_container: float, cost_per_kg: float,
                 chargeable: float, cost_per_m3: float, volume_m3: float, units: int,
                 cost_per_unit: float) -> float:
    """A bulk load's main-leg freight: whole containers (FCL) plus the rate card on the
    load's chargeable weight, volume and units."""
    return (containers * cost_per_container + chargeable * cost_per_kg
            + volume_m3 * cost_per_m3 + units * cost_per_unit)


def vat_in_price(price: Values, vat_rate: Values) -> np.ndarray:
    """The VAT contained in a VAT-inclusive price."""
    return np.asarray(price * vat_rate / (1.0 + vat_rate))


def price_ex_vat(price: Values, vat_rate: Values) -> np.ndarray:
    """A VAT-inclusive price less the VAT in it."""
    return np.asarray(price - vat_in_price(price, vat_rate))


def commission(price: Values, commission_rate: Values) -> np.ndarray:
    """The marketplace's referral fee, on the VAT-inclusive price (see the module note)."""
    return np.asarray(commission_rate * price)


def payment_fee(price: Values, payment_fee_rate: Values) -> np.ndarray:
    """The payment processor's fee, on the amount collected (VAT included)."""
    return np.asarray(payment_fee_rate * price)


def net_revenue_per_unit(price: Values, vat_rate: Values, commission_rate: Values,
                         payment_fee_rate: Values) -> np.ndarray:
    """What a sale leaves the seller: price ex VAT less commission and payment fee."""
    return np.asarray(price_ex_vat(price, vat_rate) - commission(price, commission_rate)
                      - payment_fee(price, payment_fee_rate))


def parcel_duty(value_ex_vat: Values, duty_rate: Values, de_minimis: Values,
                low_value_duty: Values = 0.0) -> np.ndarray:
    """Duty on a direct parcel: the flat low-value duty (none by default) at or below the
    de minimis value, else the rate on the whole value ex VAT."""
    return np.where(value_ex_vat > de_minimis, duty_rate * value_ex_vat, low_value_duty)


def import_duty(customs_value: Values, duty_rate: Values) -> np.ndarray:
    """Duty on goods cleared in bulk into an overseas warehouse (no de minimis)."""
    return np.asarray(duty_rate * customs_value)


def import_vat(customs_value: Values, import_duty_: Values, vat_rate: Values) -> np.ndarray:
    """VAT on goods cleared in bulk: on the customs value plus the duty, as the EU and UK
    levy it; paid at clearance and recovered as input VAT on the next return."""
    return np.asarray(vat_rate * (customs_value + import_duty_))


def export_rebate(purchase_value: Values, purchase_vat_rate: Values,
                  rebate_rate: Values) -> np.ndarray:
    """China's export VAT rebate: the purchase value ex VAT times the goods' rebate rate."""
    return np.asarray(purchase_value / (1.0 + purchase_vat_rate) * rebate_rate)


def pick_pack(fee_per_order: Values, labour_per_unit: Values, units: Values) -> np.ndarray:
    """A warehouse's charge for one order: its fee per order, plus handling labour per unit
    where the seller staffs the warehouse itself (a 3PL's fee covers its labour)."""
    return np.asarray(fee_per_order + labour_per_unit * units)


def capital_cost(value: Values, annual_rate: float, days: Values) -> np.ndarray:
    """The cost of money tied up in goods worth ``value`` for ``days`` days."""
    return np.asarray(value * (annual_rate / 365.0) * days)


def landed_cost_per_unit(product: Values, inbound_freight: Values, import_duty_: Values,
                         parcel_duty_: Values, outbound_freight: Values,
                         pick_pack: Values) -> np.ndarray:
    """Everything it takes to put a unit in the buyer's hands, product included."""
    return np.asarray(product + inbound_freight + import_duty_ + parcel_duty_
                      + outbound_freight + pick_pack)


def recovery(unit_cost: Values, fraction: Values) -> np.ndarray:
    """Cash a unit sold off (liquidated) brings back: a fraction of its unit cost."""
    return np.asarray(fraction * unit_cost)
