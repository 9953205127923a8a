import pytest

from commgov.datasets import MATCHING_SCALES, matching_instance
from commgov.errors import InputError


def test_same_seed_byte_identical_json():
    a = matching_instance("community", 3).model_dump_json()
    b = matching_instance("community", 3).model_dump_json()
    assert a == b
    assert a != matching_instance("community", 4).model_dump_json()


def test_community_sizes_and_rules():
    p = matching_instance("community", 0)
    n_tasks, n_vols, _, _ = MATCHING_SCALES["community"]
    assert (len(p.tasks), len(p.volunteers)) == (n_tasks, n_vols)
    assert p.max_distance_m == 1000.0
    assert p.detour_factor == 1.0
    assert all(1 <= len(v.skills) <= 3 for v in p.volunteers)
    assert all(v.availability for v in p.volunteers)


def test_district_scale_declared():
    assert MATCHING_SCALES["district"][:3] == (50_000, 5_000, 83.0)


@pytest.mark.parametrize(("scale", "seed"), [("county", 0), ("community", -1), ("community", 1.5)])
def test_bad_parameters(scale, seed):
    with pytest.raises(InputError):
        matching_instance(scale, seed)
