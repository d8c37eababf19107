"""Every number the Python bindings take, at random (hypothesis): sizes, counts, rates, beam
widths, timeouts and times, including negative, zero, huge, NaN and infinite values. Each call
returns or raises an ordinary exception (a voiceflow error, or OverflowError/TypeError for a
number Python cannot pass as the argument's type); a Rust panic would surface as
pyo3's PanicException, a BaseException that these tests let through and fail on.

`HYPOTHESIS_PROFILE=long pytest tests/python/test_bindings_limits.py` runs 10,000 examples each."""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import pytest
from conftest import TINY_EN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Integers across every width a binding may meet, edges included.
INTS = st.one_of(st.integers(), st.sampled_from([-1, 0, 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 2**64 + 1]))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e19, 1e300, -1e-300]))


def ordinary(call, voiceflow) -> object | None:
    """Runs `call`; an ordinary error is returned (not raised), anything else propagates."""
    try:
        call()
    except (voiceflow.Error, OverflowError, TypeError) as error:
        return error
    return None


@given(capacity=st.one_of(st.none(), INTS), workers=st.one_of(st.none(), st.integers(-2, 4), st.integers(1025)))
def test_enhancer_sizes(voiceflow, capacity, workers):
    in_range = (capacity is None or 1 <= capacity <= 65_536) and (workers is None or 1 <= workers <= 1024)
    enhancers = []
    error = ordinary(lambda: enhancers.append(voiceflow.Enhancer(capacity=capacity, workers=workers)),
                     voiceflow)
    assert (error is None) == in_range, error
    assert error is None or isinstance(error, (voiceflow.InvalidArgumentError, OverflowError)), error
    for enhancer in enhancers:
        enhancer.close()


@pytest.fixture(scope="module")
def enhancer(voiceflow):
    with voiceflow.Enhancer(capacity=8, workers=1) as enhancer:
        yield enhancer


@given(timeout=st.one_of(st.none(), FLOATS))
def test_enhance_timeouts(voiceflow, enhancer, timeout):
    try:
        out = enhancer.enhance("um hello comma world", "chat", timeout=timeout)
    except voiceflow.InvalidArgumentError:
        assert math.isnan(timeout) or timeout < 0
    except voiceflow.RequestTimeoutError:
        assert timeout is not None and timeout < 60
    else:
        assert out.text == "Hello, world"
        assert timeout is None or not (math.isnan(timeout) or timeout < 0)


@given(threads=st.one_of(st.none(), INTS), instances=INTS, max_duration=st.one_of(st.none(), FLOATS))
def test_engine_numbers_are_checked_before_the_model(voiceflow, tmp_path, threads, instances, max_duration):
    error = ordinary(lambda: voiceflow.Engine(tmp_path / "no-model", threads=threads, instances=instances,
                                              max_audio_duration_s=max_duration), voiceflow)
    in_range = ((threads is None or 1 <= threads <= 1024) and 1 <= instances <= 256
                and (max_duration is None or max_duration > 0))
    if in_range:
        assert isinstance(error, voiceflow.ModelError), error
    else:
        assert isinstance(error, (voiceflow.InvalidArgumentError, OverflowError)), error


@pytest.fixture(scope="module")
def engine(voiceflow):
    with voiceflow.Engine(TINY_EN, threads=1) as engine:
        yield engine


# One argument out of range, the others valid: the call fails before any inference.
BROKEN = st.one_of(
    st.tuples(st.just("rate"), st.one_of(st.integers(max_value=0), st.integers(min_value=384_001))),
    st.tuples(st.just("beam"), st.one_of(st.integers(max_value=0), st.integers(min_value=129))),
    st.tuples(st.just("peak"), st.one_of(st.sampled_from([math.nan, math.inf, -math.inf]),
                                          st.floats(min_value=8.001, max_value=3e38))),
)


@given(broken=BROKEN)
def test_transcribe_numbers_fail_before_inference(voiceflow, engine, broken):
    what, value = broken
    audio = np.full(1600, 0.25, dtype=np.float32)
    rate, beam = 16_000, 1
    if what == "rate":
        rate = value
    elif what == "beam":
        beam = value
    else:
        audio[-1] = value
    error = ordinary(lambda: engine.transcribe(audio, rate, beam_size=beam), voiceflow)
    expected = voiceflow.InvalidAudioError if what == "peak" else (voiceflow.InvalidArgumentError, OverflowError)
    assert isinstance(error, expected), (broken, error)


@pytest.fixture(scope="module")
def store(voiceflow, tmp_path_factory):
    with voiceflow.Store(tmp_path_factory.mktemp("limits") / "store", encrypted=False) as store:
        yield store


TIMES = st.one_of(st.none(), st.datetimes(timezones=st.just(dt.timezone.utc)))


@given(since=TIMES, until=TIMES, limit=st.one_of(st.none(), INTS), search_limit=INTS)
def test_store_times_and_limits(voiceflow, store, since, until, limit, search_limit):
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    error = ordinary(lambda: store.query(since=since, until=until, limit=limit), voiceflow)
    before_epoch = any(t is not None and t < epoch for t in (since, until))
    if error is None:
        assert (limit is None or limit > 0) and not before_epoch
    else:
        assert limit is not None and limit <= 0 or limit is not None and limit >= 2**64 or before_epoch, error
    error = ordinary(lambda: store.search("apple", limit=search_limit), voiceflow)
    assert (error is None) == (0 < search_limit < 2**64), error
