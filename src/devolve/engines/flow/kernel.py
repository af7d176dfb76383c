"""The discharge simulation's compiled core: draw one replication's patients, run its event loop.

Time is continuous, in days from the start of the warm-up. One replication:

1. **Draws** (:func:`draw_replication`), all before the loop and in arrival order, so capacity
   never changes what is drawn: arrival times (a Poisson process whose rate is constant within
   each day: unit-rate exponential gaps mapped through the cumulative expected admissions), then
   for each patient an age group, an acute length of stay (lognormal) and a discharge pathway,
   then each pathway's service durations (gamma) and the residual times of the places busy at the
   start (priming).
2. **Runs** (:func:`run_replication`) a next-event loop over three kinds of event — an arrival,
   a patient becoming ready for discharge (end of acute stay) and a place freeing up in a
   pathway; arrivals are read in order, the others kept in 4-ary heaps (one for acute stays,
   one per pathway). Pathway queues and the queue for a bed are first come, first
   served. Statistics are time integrals over the measured window [warm-up, horizon).

:func:`run_batch` runs a batch of replications without holding Python's GIL, so several threads
can run batches side by side; each replication's draws depend only on its own streams, so the
result does not depend on the number of threads.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from devolve.engines.flow.streams import ARRIVALS, ATTRIBUTES, exponential, gamma, standard_normal, uniform

#: What happens to an emergency arrival when every bed is occupied.
ESCALATE, DIVERT, WAIT = 0, 1, 2

# Levels integrated over time (first DAILY_LEVELS are also kept day by day).
L_OCCUPIED, L_DELAYED, L_BED_QUEUE = 0, 1, 2
L_QUEUE = 2                    # + k: patients in hospital waiting for pathway k (k = 1..3)
L_BUSY = 5                     # + k: places in use in pathway k
L_ESCALATION, L_FULL = 9, 10   # beds above the bed base; 1 while the bed base is full
LEVELS = 11
DAILY_LEVELS = 9
DAILY_NAMES = ("occupied_beds", "delayed_patients", "waiting_for_bed",
               "queue_home_support", "queue_bedded_reablement", "queue_care_home",
               "busy_home_support", "busy_bedded_reablement", "busy_care_home")

# Per-replication outputs (row of ``out``). "Window" counts are events in [warm-up, horizon).
OUT_NAMES = (
    "arrivals", "admitted", "diverted", "discharged", "in_hospital_at_start", "in_hospital_at_end",
    "bed_days", "delayed_days", "delayed_patients", "bed_queue_days", "waited_for_bed", "bed_wait_days",
    "full_days", "escalation_bed_days", "escalated_admissions", "los_days", "acute_los_days",
    "peak_occupied", "discharged_home", "discharged_home_support", "discharged_bedded_reablement",
    "discharged_care_home",
    "referrals_home_support", "started_home_support", "wait_days_home_support",
    "waited_home_support", "queue_days_home_support", "busy_days_home_support",
    "referrals_bedded_reablement", "started_bedded_reablement", "wait_days_bedded_reablement",
    "waited_bedded_reablement", "queue_days_bedded_reablement", "busy_days_bedded_reablement",
    "referrals_care_home", "started_care_home", "wait_days_care_home",
    "waited_care_home", "queue_days_care_home", "busy_days_care_home",
    "arrivals_total", "admitted_total", "diverted_total", "discharged_total",
    "waiting_for_bed_at_end", "delayed_at_end",
)
(O_ARRIVALS, O_ADMITTED, O_DIVERTED, O_DISCHARGED, O_IN_START, O_IN_END, O_BED_DAYS, O_DELAYED_DAYS,
 O_DELAYED_PATIENTS, O_BED_QUEUE_DAYS, O_WAITED_FOR_BED, O_BED_WAIT_DAYS, O_FULL_DAYS, O_ESCALATION_DAYS,
 O_ESCALATED, O_LOS, O_ACUTE_LOS, O_PEAK, O_DISCHARGED_BY_PATHWAY) = range(19)
O_PATHWAY = 22                 # block of 6 per pathway k: O_PATHWAY + 6 * (k - 1) + P_*
P_REFERRALS, P_STARTED, P_WAIT_DAYS, P_WAITED, P_QUEUE_DAYS, P_BUSY_DAYS = range(6)
(O_ARRIVALS_TOTAL, O_ADMITTED_TOTAL, O_DIVERTED_TOTAL, O_DISCHARGED_TOTAL, O_BED_QUEUE_END,
 O_DELAYED_END) = range(40, 46)
OUTPUTS = len(OUT_NAMES)


# --- 4-ary min-heaps on arrays (keys, and integer values) ---------------------------------------
# Half as deep as a binary heap; keys sit side by side in memory, which matters more here than
# the O(1) insert of a calendar queue (tried: slower, its buckets chase pointers across memory).

@nb.njit(cache=True, inline="always")
def _heap_push(keys, vals, size, key, val):
    """Add (key, val) to the heap of ``size`` items; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@nb.njit(cache=True, inline="always")
def _heap_pop(keys, vals, size):
    """Remove the smallest key; return the new size (the caller read keys[0], vals[0] first)."""
    size -= 1
    key = keys[size]
    val = vals[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        smallest = first
        smallest_key = keys[first]
        for j in range(first + 1, min(first + 4, size)):
            if keys[j] < smallest_key:
                smallest_key = keys[j]
                smallest = j
        if smallest_key >= key:
            break
        keys[i] = smallest_key
        vals[i] = vals[smallest]
        i = smallest
    if size > 0:
        keys[i] = key
        vals[i] = val
    return size


# --- draws ---------------------------------------------------------------------------------------

@nb.njit(cache=True)
def _draw_arrivals(stream, cumulative):
    """Arrival times of a Poisson process whose expected count by time t is ``cumulative``
    interpolated linearly within each day: unit-rate exponential gaps mapped through its inverse."""
    total = cumulative[cumulative.size - 1]
    arrival = np.empty(int(total + 6.0 * math.sqrt(total) + 16.0))
    n = 0
    s = 0.0
    day = 0
    while True:
        s += exponential(stream)
        if s >= total:
            break
        while cumulative[day + 1] <= s:
            day += 1
        if n == arrival.size:
            grown = np.empty(2 * arrival.size)
            grown[:n] = arrival[:n]
            arrival = grown
        arrival[n] = day + (s - cumulative[day]) / (cumulative[day + 1] - cumulative[day])
        n += 1
    return arrival[:n].copy()


@nb.njit(cache=True)
def _draw_attributes(stream, n, group_cum, los_mu, los_sigma, pathway_cum):
    """Per patient: an age group, an acute length of stay (lognormal) and a pathway (0–3)."""
    group = np.empty(n, dtype=np.int64)
    pathway = np.empty(n, dtype=np.int64)
    los = np.empty(n)
    groups = group_cum.size
    for i in range(n):
        u = uniform(stream)
        g = 0
        while g < groups - 1 and u >= group_cum[g]:
            g += 1
        los[i] = math.exp(los_mu[g] + los_sigma[g] * standard_normal(stream))
        u = uniform(stream)
        k = 0
        while k < 3 and u >= pathway_cum[g, k]:
            k += 1
        group[i] = g
        pathway[i] = k
    return group, los, pathway


@nb.njit(cache=True)
def _draw_durations(states, pathway, duration_shape, duration_scale):
    """Time in each pathway's service (gamma), from that pathway's own stream; 0 for pathway 0."""
    duration = np.zeros(pathway.size)
    for k in range(1, 4):
        stream = states[1 + k]
        for i in range(pathway.size):
            if pathway[i] == k:
                duration[i] = gamma(stream, duration_shape[k], duration_scale[k])
    return duration


@nb.njit(cache=True)
def _draw_residuals(states, primed, duration_shape, duration_scale):
    """When each place busy at time 0 frees up: the equilibrium residual of a gamma duration,
    U × a length-biased draw, which for gamma(shape, scale) is gamma(shape + 1, scale)."""
    residual = np.zeros((4, max(1, primed.max())))
    for k in range(1, 4):
        stream = states[4 + k]
        for j in range(primed[k]):
            residual[k, j] = gamma(stream, duration_shape[k] + 1.0, duration_scale[k]) * uniform(stream)
    return residual


@nb.njit(cache=True)
def draw_replication(states, cumulative, group_cum, los_mu, los_sigma, pathway_cum, duration_shape,
                     duration_scale, primed):
    """One replication's patients, drawn from its streams ``states`` (advanced in place).

    Returns (arrival, los, group, pathway, duration, residual): per patient in arrival order the
    arrival time, acute length of stay, age group, pathway (0–3) and time in the pathway's
    service (0 for pathway 0); and ``residual[k, j]``, when the j-th place of pathway k busy at
    time 0 frees up.
    """
    arrival = _draw_arrivals(states[ARRIVALS], cumulative)
    group, los, pathway = _draw_attributes(states[ATTRIBUTES], arrival.size, group_cum, los_mu, los_sigma,
                                           pathway_cum)
    duration = _draw_durations(states, pathway, duration_shape, duration_scale)
    residual = _draw_residuals(states, primed, duration_shape, duration_scale)
    return arrival, los, group, pathway, duration, residual


# --- the event loop ------------------------------------------------------------------------------

@nb.njit(cache=True, inline="always")
def _integrate(level, t0, t1, warm, horizon, area, daily, out):
    """Add each level × the part of [t0, t1) inside the window to its area and to its days; note
    the beds occupied when the clock crosses into the window."""
    if t0 < warm <= t1:
        out[O_IN_START] = level[L_OCCUPIED]
        out[O_PEAK] = max(out[O_PEAK], level[L_OCCUPIED])
    a = max(t0, warm)
    b = min(t1, horizon)
    if b <= a:
        return
    for j in range(LEVELS):
        area[j] += level[j] * (b - a)
    days = daily.shape[0]
    x = a
    while x < b:
        d = int(x - warm)
        if d >= days:
            break
        end = min(b, warm + d + 1.0)
        for j in range(DAILY_LEVELS):
            daily[d, j] += level[j] * (end - x)
        x = end


@nb.njit(cache=True, inline="always")
def _set_occupied(level, occupied, beds):
    """Occupied beds, escalation beds above the bed base, and whether the bed base is full."""
    level[L_OCCUPIED] = occupied
    level[L_ESCALATION] = max(0.0, occupied - beds)
    level[L_FULL] = 1.0 if occupied >= beds else 0.0


@nb.njit(cache=True)
def run_replication(arrival, los, pathway, duration, residual, primed, capacity, beds, policy, warm,
                    horizon, out, daily):
    """Run one replication's event loop over drawn patients; fill ``out`` and ``daily`` in place.

    ``capacity[k]`` is the places in pathway k (k = 1..3), ``beds`` the bed base, ``policy``
    ESCALATE, DIVERT or WAIT. ``out`` (length OUTPUTS) and ``daily`` (days × DAILY_LEVELS) must be
    zero on entry; ``daily[d, j]`` ends as the mean of level j over day d of the window.
    """
    n = arrival.size
    admitted_at = np.zeros(n)
    ready_at = np.zeros(n)
    acute_keys = np.empty(n + 1)                 # ends of acute stays: (time, patient)
    acute_vals = np.empty(n + 1, dtype=np.int64)
    acute_size = 0
    width = max(1, capacity.max())
    slot_keys = np.empty((4, width))             # ends of pathway places: (time, patient or -1)
    slot_vals = np.zeros((4, width), dtype=np.int64)
    slot_size = np.zeros(4, dtype=np.int64)
    # First-come-first-served queues: each patient joins a pathway's queue at most once, so a
    # flat array with a head and a tail per pathway (offset by the patients before) is enough.
    on_pathway = np.zeros(4, dtype=np.int64)
    for i in range(n):
        on_pathway[pathway[i]] += 1
    queue = np.empty(n + 1, dtype=np.int64)
    head = np.zeros(4, dtype=np.int64)
    tail = np.zeros(4, dtype=np.int64)
    for k in range(2, 4):
        head[k] = head[k - 1] + on_pathway[k - 1]
        tail[k] = head[k]
    bed_queue = np.empty(n + 1, dtype=np.int64)
    bed_head = 0
    bed_tail = 0
    level = np.zeros(LEVELS)
    area = np.zeros(LEVELS)
    _set_occupied(level, 0.0, beds)
    for k in range(1, 4):
        for j in range(primed[k]):
            slot_size[k] = _heap_push(slot_keys[k], slot_vals[k], slot_size[k], residual[k, j], -1)
        level[L_BUSY + k] = primed[k]
    occupied = 0
    t_last = 0.0
    next_arrival = 0
    while True:
        t_arrival = arrival[next_arrival] if next_arrival < n else np.inf
        t_ready = acute_keys[0] if acute_size > 0 else np.inf
        t_free = np.inf
        freed = 0
        for k in range(1, 4):
            if slot_size[k] > 0 and slot_keys[k, 0] < t_free:
                t_free = slot_keys[k, 0]
                freed = k
        t = min(t_arrival, t_ready, t_free)
        if t >= horizon:
            break
        _integrate(level, t_last, t, warm, horizon, area, daily, out)
        t_last = t
        inside = t >= warm
        leaving = -1
        if t_free <= t_ready and t_free <= t_arrival:    # a pathway place frees up
            k = freed
            slot_size[k] = _heap_pop(slot_keys[k], slot_vals[k], slot_size[k])
            level[L_BUSY + k] -= 1.0
            if head[k] < tail[k]:
                leaving = queue[head[k]]
                head[k] += 1
                level[L_QUEUE + k] -= 1.0
                level[L_DELAYED] -= 1.0
        elif t_ready <= t_arrival:                       # a patient is ready for discharge
            p = acute_vals[0]
            acute_size = _heap_pop(acute_keys, acute_vals, acute_size)
            ready_at[p] = t
            k = pathway[p]
            if k == 0:
                leaving = p
            else:
                if inside:
                    out[O_PATHWAY + 6 * (k - 1) + P_REFERRALS] += 1
                if level[L_BUSY + k] < capacity[k]:
                    leaving = p
                else:
                    queue[tail[k]] = p
                    tail[k] += 1
                    level[L_QUEUE + k] += 1.0
                    level[L_DELAYED] += 1.0
                    if inside:
                        out[O_DELAYED_PATIENTS] += 1
        else:                                            # an emergency arrival
            p = next_arrival
            next_arrival += 1
            out[O_ARRIVALS_TOTAL] += 1
            if inside:
                out[O_ARRIVALS] += 1
            admit = True
            if occupied >= beds:
                if policy == DIVERT:
                    admit = False
                    out[O_DIVERTED_TOTAL] += 1
                    if inside:
                        out[O_DIVERTED] += 1
                elif policy == WAIT:
                    admit = False
                    bed_queue[bed_tail] = p
                    bed_tail += 1
                    level[L_BED_QUEUE] += 1.0
                elif inside:
                    out[O_ESCALATED] += 1
            if admit:
                admitted_at[p] = t
                occupied += 1
                _set_occupied(level, occupied, beds)
                acute_size = _heap_push(acute_keys, acute_vals, acute_size, t + los[p], p)
                out[O_ADMITTED_TOTAL] += 1
                if inside:
                    out[O_ADMITTED] += 1
                    out[O_PEAK] = max(out[O_PEAK], occupied)
        if leaving >= 0:
            p = leaving
            k = pathway[p]
            if k > 0:  # the patient takes up a place in pathway k as they leave hospital
                slot_size[k] = _heap_push(slot_keys[k], slot_vals[k], slot_size[k], t + duration[p], p)
                level[L_BUSY + k] += 1.0
                if inside:
                    base = O_PATHWAY + 6 * (k - 1)
                    out[base + P_STARTED] += 1
                    out[base + P_WAIT_DAYS] += t - ready_at[p]
                    if t > ready_at[p]:
                        out[base + P_WAITED] += 1
            occupied -= 1
            _set_occupied(level, occupied, beds)
            out[O_DISCHARGED_TOTAL] += 1
            if inside:
                out[O_DISCHARGED] += 1
                out[O_DISCHARGED_BY_PATHWAY + k] += 1
                out[O_LOS] += t - admitted_at[p]
                out[O_ACUTE_LOS] += ready_at[p] - admitted_at[p]
            if policy == WAIT and bed_head < bed_tail and occupied < beds:
                q = bed_queue[bed_head]
                bed_head += 1
                level[L_BED_QUEUE] -= 1.0
                admitted_at[q] = t
                occupied += 1
                _set_occupied(level, occupied, beds)
                acute_size = _heap_push(acute_keys, acute_vals, acute_size, t + los[q], q)
                out[O_ADMITTED_TOTAL] += 1
                if inside:
                    out[O_ADMITTED] += 1
                    out[O_WAITED_FOR_BED] += 1
                    out[O_BED_WAIT_DAYS] += t - arrival[q]
                    out[O_PEAK] = max(out[O_PEAK], occupied)
    _integrate(level, t_last, horizon, warm, horizon, area, daily, out)
    out[O_BED_DAYS] = area[L_OCCUPIED]
    out[O_DELAYED_DAYS] = area[L_DELAYED]
    out[O_BED_QUEUE_DAYS] = area[L_BED_QUEUE]
    out[O_FULL_DAYS] = area[L_FULL]
    out[O_ESCALATION_DAYS] = area[L_ESCALATION]
    for k in range(1, 4):
        out[O_PATHWAY + 6 * (k - 1) + P_QUEUE_DAYS] = area[L_QUEUE + k]
        out[O_PATHWAY + 6 * (k - 1) + P_BUSY_DAYS] = area[L_BUSY + k]
    out[O_IN_END] = occupied
    out[O_BED_QUEUE_END] = bed_tail - bed_head
    out[O_DELAYED_END] = level[L_DELAYED]


@nb.njit(cache=True, nogil=True)
def run_batch(states, cumulative, group_cum, los_mu, los_sigma, pathway_cum, duration_shape, duration_scale,
              primed, capacity, beds, policy, warm, horizon, out, daily):
    """Run ``states.shape[0]`` replications one after another; replication r fills ``out[r]`` and
    ``daily[r]``. Releases the GIL, so threads can run disjoint batches side by side."""
    for r in range(states.shape[0]):
        own = states[r].copy()
        arrival, los, _group, pathway, duration, residual = draw_replication(
            own, cumulative, group_cum, los_mu, los_sigma, pathway_cum, duration_shape, duration_scale, primed)
        run_replication(arrival, los, pathway, duration, residual, primed, capacity, beds, policy, warm,
                        horizon, out[r], daily[r])
