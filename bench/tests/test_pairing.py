"""bench.pairing: windows in, figures out; a drift in the machine's speed cancels."""

import pytest

from bench.pairing import Window, figures, order, paired, quiet_rounds


def window(rps: float, p50: float = 10.0, p99: float = 20.0, **more) -> Window:
    return Window(
        requests=round(rps * 2), seconds=2.0, p50_ms=p50, p90_ms=p99, p99_ms=p99, max_ms=p99, **more
    )


def test_an_endpoints_figures_are_medians_over_its_windows():
    windows = [window(100, 10, 30), window(300, 20, 40), window(200, 30, 300)]

    got = figures(windows)

    assert got["windows"] == 3
    assert got["requests"] == 1200
    assert got["rps"] == 200
    assert got["p50_ms"] == 20
    assert got["p99_ms"] == 40
    # Each window's own p99 ÷ p50 (3, 2, 10): one slow window is not the tail.
    assert got["p99_over_p50"] == 3
    assert got["max_ms"] == 300


def test_errors_add_up_and_the_first_is_kept():
    windows = [window(100), window(100, errors=2, first_error="500 "), window(100, errors=1)]

    got = figures(windows)

    assert got["errors"] == 3
    assert got["first_error"] == "500 "


def test_each_pair_gives_a_ratio_and_the_median_is_reported_with_its_spread():
    pairs = [
        (window(1000), window(200)),
        (window(800), window(200)),
        (window(1000), window(100)),  # a neighbour's burst hit the endpoint's window
        (window(1200), window(300)),
        (window(900), window(180)),
    ]

    got = paired(pairs)

    assert got["ratios"] == [0.2, 0.25, 0.1, 0.25, 0.2]
    assert got["ratio"] == 0.2
    assert (got["ratio_min"], got["ratio_max"]) == (0.1, 0.25)


def test_each_pair_also_gives_a_ratio_by_cpu_time_per_request():
    """The endpoint's window waited with a core idle (its rate is a fifth of the
    ceiling's) but used a quarter of the ceiling's CPU per request: by CPU 25%."""
    pairs = [
        (window(1000, cpu_s=2.0), window(200, cpu_s=1.6)),  # 1 ms vs 4 ms a request
        (window(1000, cpu_s=2.0), window(250, cpu_s=1.6)),  # 1 ms vs 3.2 ms
        (window(1000, cpu_s=2.0), window(200, cpu_s=2.0)),  # 1 ms vs 5 ms
    ]

    got = paired(pairs)

    assert got["ratio"] == 0.2
    assert got["cpu_ratio"] == 0.25
    assert (got["cpu_ratio_min"], got["cpu_ratio_max"]) == (0.2, 0.3125)


def test_each_pair_also_gives_a_ratio_by_the_servers_own_cpu_time():
    """The database's and wrk's CPU left out: the server's workers spent 0.8 ms on
    a hello-world request and 4 ms on the endpoint's."""
    pairs = [
        (window(1000, cpu_s=2.0, server_cpu_s=1.6), window(200, cpu_s=1.6, server_cpu_s=1.6)),
        (window(1000, cpu_s=2.0, server_cpu_s=1.6), window(200, cpu_s=1.6, server_cpu_s=1.2)),
        (window(1000, cpu_s=2.0, server_cpu_s=1.6), window(200, cpu_s=1.6, server_cpu_s=2.0)),
    ]

    got = paired(pairs)

    assert got["server_ratio"] == 0.2
    assert (got["server_ratio_min"], got["server_ratio_max"]) == (0.16, 0.2667)


def test_without_cpu_figures_there_is_no_cpu_ratio():
    got = paired([(window(1000), window(200))])

    assert got["ratio"] == 0.2
    assert got["cpu_ratio"] is None
    assert got["server_ratio"] is None


def test_sides_take_turns_going_first():
    assert [order(n) for n in range(4)] == [(0, 1), (1, 0), (0, 1), (1, 0)]


def test_with_three_sides_the_middle_one_stays_beside_both_others():
    assert [order(n, 3) for n in range(3)] == [(0, 1, 2), (2, 1, 0), (0, 1, 2)]


@pytest.mark.parametrize("drift", [-0.5, 0.5])
def test_a_drift_in_the_machines_speed_cancels_in_the_pairs(drift):
    """The machine slows (or speeds up) by half over the run; the endpoint always
    serves a quarter of the ceiling's req/s at the same moment."""
    true_ratio, pairs, moment = 0.25, [], 0
    for number in range(5):
        got = {}
        for side in order(number):
            speed = 1 + drift * moment / 10
            got[side] = window(2000 * speed * (true_ratio if side else 1))
            moment += 1
        pairs.append((got[0], got[1]))

    # The ceiling measured once, at the start, and the endpoint afterwards: off by
    # the drift. Each pair's ratio: within the drift of one window.
    one_ceiling = figures([b for _, b in pairs])["rps"] / pairs[0][0].rps
    assert abs(one_ceiling / true_ratio - 1) > 0.15
    assert paired(pairs)["ratio"] == pytest.approx(true_ratio, rel=0.06)


def disturbed(rps: float) -> Window:
    """A window during which another process took a core."""
    return window(rps, others_cpu=1.0)


def test_pairs_that_another_process_disturbed_do_not_count_when_enough_are_quiet():
    pairs = [
        (window(1000), window(200)),
        (disturbed(900), window(90)),
        (window(1000), window(210)),
        (window(1000), disturbed(50)),
        (window(1000), window(190)),
    ]

    got = paired(pairs)

    assert got["used"] == [0, 2, 4]
    assert got["quiet_pairs"] == 3
    assert got["disturbed"] is False
    assert got["ratio"] == 0.2
    assert (got["ratio_min"], got["ratio_max"]) == (0.19, 0.21)
    assert got["ratios"] == [0.2, 0.1, 0.21, 0.05, 0.19]  # every pair, for the record


def test_with_too_few_quiet_pairs_all_count_and_the_result_says_so():
    pairs = [(disturbed(1000), disturbed(100)), (window(1000), window(200))] * 2

    got = paired(pairs)

    assert got["used"] == [0, 1, 2, 3]
    assert got["disturbed"] is True
    assert got["others_cpu_max"] == 1.0
    assert quiet_rounds(pairs) == 2


def test_a_third_window_in_the_round_makes_it_disturbed_too():
    """The compiled-query comparison's window sits in the same rounds."""
    rounds = [(window(1000), window(200), disturbed(150))] + [
        (window(1000), window(200), window(180))
    ] * 3

    got = paired([(a, b) for a, b, _ in rounds], rounds)

    assert got["used"] == [1, 2, 3]
