"""sim.economics by hand: every figure below is worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from sim import economics


def test_freight_is_billed_on_the_chargeable_weight():
    # 1 kg in 0.01 m3 at 167 kg per m3 weighs 1.67 kg by volume: billed 1.67 kg.
    assert economics.chargeable_kg(1.0, 0.01, 167.0) == pytest.approx(1.67)
    # 2 kg in the same box: the actual weight is the larger, billed 2 kg.
    assert economics.chargeable_kg(2.0, 0.01, 167.0) == pytest.approx(2.0)
    # 2 per unit + 30 per kg x 1.67 kg + 100 per m3 x 0.01 m3 = 2 + 50.1 + 1 = 53.1
    assert economics.freight_per_unit(2.0, 30.0, 100.0, 167.0, 1.0, 0.01) == pytest.approx(53.1)
    # 2 + 30 x 2 + 1 = 63
    assert economics.freight_per_unit(2.0, 30.0, 100.0, 167.0, 2.0, 0.01) == pytest.approx(63.0)
    # Arrays broadcast against scalars: one rate card, two SKUs.
    assert economics.freight_per_unit(2.0, 30.0, 100.0, 167.0, np.array([1.0, 2.0]),
                                      0.01) == pytest.approx([53.1, 63.0])


def test_vat_is_inside_the_price():
    # 119 incl. 19 % VAT = 100 ex VAT + 19 VAT
    assert economics.vat_in_price(119.0, 0.19) == pytest.approx(19.0)
    assert economics.price_ex_vat(119.0, 0.19) == pytest.approx(100.0)
    assert economics.price_ex_vat(25.0, 0.0) == pytest.approx(25.0)


def test_commission_and_payment_fee_are_charged_on_the_price_with_vat():
    # 15 % of 119 = 17.85 (not 15 % of 100 = 15); 2 % of 119 = 2.38
    assert economics.commission(119.0, 0.15) == pytest.approx(17.85)
    assert economics.payment_fee(119.0, 0.02) == pytest.approx(2.38)
    # net = 100 - 17.85 - 2.38 = 79.77 (on the ex-VAT base it would be 100 x 0.83 = 83)
    assert economics.net_revenue_per_unit(119.0, 0.19, 0.15, 0.02) == pytest.approx(79.77)
    assert economics.net_revenue_per_unit(np.array([119.0, 238.0]), 0.19, 0.15, 0.02) \
        == pytest.approx([79.77, 159.54])
    # Without VAT the two bases agree: 20 x (1 - 0.17) = 16.6
    assert economics.net_revenue_per_unit(20.0, 0.0, 0.15, 0.02) == pytest.approx(16.6)


def test_parcel_duty_applies_only_above_the_de_minimis_value():
    # At or below the threshold (150): no duty; above it, on the whole value.
    assert economics.parcel_duty(100.0, 0.10, 150.0) == 0.0
    assert economics.parcel_duty(150.0, 0.10, 150.0) == 0.0
    # 10 % of 150.01 = 15.001
    assert economics.parcel_duty(150.01, 0.10, 150.0) == pytest.approx(15.001)
    assert economics.parcel_duty(np.array([100.0, 200.0]), 0.10, 150.0) \
        == pytest.approx([0.0, 20.0])
    # Bulk import duty has no de minimis: 12 % of a customs value of 50 = 6
    assert economics.import_duty(50.0, 0.12) == pytest.approx(6.0)


def test_capital_cost_and_landed_cost():
    # 365 CNY at 10 % a year for 30 days: 365 x 0.1 / 365 x 30 = 3
    assert economics.capital_cost(365.0, 0.10, 30.0) == pytest.approx(3.0)
    # 50 product + 5 inbound + 6 import duty + 0 parcel duty + 20 outbound + 3 pick = 84
    assert economics.landed_cost_per_unit(50.0, 5.0, 6.0, 0.0, 20.0, 3.0) == pytest.approx(84.0)
