"""The compiled engine and the SimPy reference (benchmarks/flow_simpy_reference.py) agree exactly
when fed the same drawn patients, under every full-bed-base policy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from devolve.engines.flow import example_model, kernel
from devolve.engines.flow.simulate import kernel_inputs
from devolve.engines.flow.streams import replication_states

pytest.importorskip("simpy")
REFERENCE = Path(__file__).resolve().parents[3] / "benchmarks" / "flow_simpy_reference.py"


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("flow_simpy_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module        # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("policy", ["escalate", "divert", "wait"])
@pytest.mark.parametrize("seed", [1, 2])
def test_same_patients_same_results(reference, policy, seed):
    model = example_model(full_bed_base=policy, acute_beds=70, days=90).with_capacity(
        home_support=112, bedded_reablement=6, care_home=0 if policy == "wait" else 8)
    inputs = kernel_inputs(model)
    arrival, los, _group, pathway, duration, residual = kernel.draw_replication(
        replication_states(seed, 1)[0].copy(), inputs["cumulative"], inputs["group_cum"], inputs["los_mu"],
        inputs["los_sigma"], inputs["pathway_cum"], inputs["duration_shape"], inputs["duration_scale"],
        inputs["primed"])
    out = np.zeros(kernel.OUTPUTS)
    daily = np.zeros((model.days, kernel.DAILY_LEVELS))
    kernel.run_replication(arrival, los, pathway, duration, residual, inputs["primed"], inputs["capacity"],
                           inputs["beds"], inputs["policy"], inputs["warm"], inputs["horizon"], out, daily)
    patients = reference.Patients(arrival, los, pathway, duration,
                                  [np.zeros(0)] + [residual[k, :inputs["primed"][k]] for k in (1, 2, 3)])
    expected, expected_daily = reference.simulate_replication(model, patients)
    assert reference.OUTPUT_NAMES == kernel.OUT_NAMES
    assert out[kernel.O_DELAYED_DAYS] > 0      # the case exercises delays
    for j, name in enumerate(kernel.OUT_NAMES):
        assert out[j] == pytest.approx(expected[name], rel=1e-9, abs=1e-9), name
    np.testing.assert_allclose(daily, expected_daily, rtol=1e-9, atol=1e-9)


def test_the_reference_samples_the_same_model(reference):
    """The reference's own sampler draws the same numbers of patients on average."""
    model = example_model(days=60, warm_up_days=10)
    rng = np.random.default_rng(0)
    counts = [reference.draw_patients(model, rng).arrival.size for _ in range(40)]
    expected = model.daily_admissions().sum()
    assert np.mean(counts) == pytest.approx(expected, rel=0.02)
