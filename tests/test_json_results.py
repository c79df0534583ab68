"""fastap._core.parse_results_json: the C scanner for COCO results files; and
json_object_members / parse_annotations_json for ground-truth files (at the end).

Every successful parse is compared with json.loads + NumPy arrays, bit for bit
(``.view(np.int64)`` so that -0.0 and NaN payloads count).
"""
import json
import locale
import math
import threading
import time

import numpy as np
import pytest

from fastap._core import parse_results_json
from fastap.synthetic import make_coco, make_keypoints_coco, make_segm_coco

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

try:
    from fastap._core import ResultsJSONError
except ImportError:  # pragma: no cover
    ResultsJSONError = ValueError


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------

def reference(data):
    """What the general path computes: json.loads, then columns."""
    recs = json.loads(data)
    assert isinstance(recs, list)
    n = len(recs)

    def as_id(v):
        assert not isinstance(v, bool)
        if isinstance(v, float):
            assert v == int(v)
            return int(v)
        return v

    img = np.array([as_id(r["image_id"]) for r in recs], dtype=np.int64).reshape(n)
    cat = np.array([as_id(r["category_id"]) for r in recs], dtype=np.int64).reshape(n)
    box = np.array([[float(v) for v in r["bbox"]] for r in recs], dtype=np.float64).reshape(n, 4)
    score = np.array([float(r["score"]) for r in recs], dtype=np.float64).reshape(n)
    area = np.array([float(r["area"]) if r.get("area") is not None else np.nan for r in recs],
                    dtype=np.float64).reshape(n)
    has_area = all(r.get("area") is not None for r in recs)
    return dict(image_id=img, category_id=cat, bbox=box, score=score, area=area,
                has_area=has_area)


def pyfloat(tok):
    """float() of what json.loads makes of a number token ("-0" is the integer 0)."""
    return float(json.loads(tok))


def bits(a):
    return np.ascontiguousarray(a).view(np.int64)


def assert_same(got, want):
    assert set(got) == {"image_id", "category_id", "bbox", "score", "area", "has_area"}
    for k in ("image_id", "category_id"):
        assert got[k].dtype == np.int64 and got[k].ndim == 1
        np.testing.assert_array_equal(got[k], want[k])
    for k in ("bbox", "score", "area"):
        assert got[k].dtype == np.float64
        assert got[k].shape == want[k].shape, k
        assert got[k].flags.c_contiguous
        # bitwise, except that any NaN equals any NaN (json gives float('nan'))
        g, w = got[k], want[k]
        nan = np.isnan(w)
        assert np.array_equal(np.isnan(g), nan), k
        assert np.array_equal(bits(g)[~nan], bits(w)[~nan]), k
    assert got["has_area"] == want["has_area"]


def check(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    got = parse_results_json(data)
    assert_same(got, reference(data))
    return got


def rec(image_id=1, category_id=2, bbox=(1.0, 2.0, 3.0, 4.0), score=0.5, **extra):
    d = {"image_id": image_id, "category_id": category_id, "bbox": list(bbox), "score": score}
    d.update(extra)
    return d


def err_of(data, exc=ValueError):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with pytest.raises(exc) as ei:
        parse_results_json(data)
    return str(ei.value), ei.value


GOOD = '{"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5}'


# ----------------------------------------------------------------------------------
# valid input
# ----------------------------------------------------------------------------------

def test_single_record():
    r = check('[{"image_id": 42, "category_id": 18, "bbox": [258.15, 41.29, 348.26, 243.78], '
              '"score": 0.236}]')
    assert r["image_id"].tolist() == [42]
    assert r["bbox"].tolist() == [[258.15, 41.29, 348.26, 243.78]]
    assert r["bbox"].shape == (1, 4)
    assert r["has_area"] is False and np.isnan(r["area"][0])


def test_synthetic_small():
    _, results = make_coco(scale="small")
    data = json.dumps(results)
    r = check(data)
    assert len(r["score"]) == len(results)


def test_synthetic_edge_cases_and_area():
    _, results = make_coco(scale="tiny", edge_cases=True, seed=3)
    for i, d in enumerate(results):
        d["area"] = d["bbox"][2] * d["bbox"][3]
        d["id"] = i + 1
    r = check(json.dumps(results))
    assert r["has_area"] is True


def test_empty_list():
    for data in ("[]", "[ ]", " \n[\r\n\t]\n ", "\ufeff[]"):
        r = parse_results_json(data.encode("utf-8"))
        for k in ("image_id", "category_id", "score", "area"):
            assert r[k].shape == (0,)
        assert r["bbox"].shape == (0, 4)
        assert r["image_id"].dtype == np.int64 and r["bbox"].dtype == np.float64


def test_bom_and_trailing_whitespace():
    check(b"\xef\xbb\xbf[" + GOOD.encode() + b"]\n\r\n\t ")


def test_buffer_types():
    data = ("[" + GOOD + "," + GOOD + "]").encode()
    want = parse_results_json(data)
    for obj in (bytearray(data), memoryview(data), np.frombuffer(data, np.uint8), data.decode()):
        assert_same(parse_results_json(obj), reference(data))
    assert want["image_id"].tolist() == [1, 1]


SPECIAL = ["1e-7", "1.5E+3", "-0.0", "-0", "0", "0.0", "0e0", "-0e-5",
           "123456789012345678901234567890.5", "4.9e-324", "5e-324", "2.4703282292062328e-324",
           "2.4703282292062327e-324", "1.7976931348623157e308", "1.7976931348623158e308",
           "1.7976931348623159e308", "1e309", "-1e400", "1e-400", "2.2250738585072011e-308",
           "2.2250738585072014e-308", "9007199254740993", "9007199254740992.0",
           "9007199254740993.0000000000000001", "0.1", "0.30000000000000004",
           "3.141592653589793238462643383279", "1E22", "1e23", "8.589973e9",
           "123456789e15", "9007199254740991e22", "1e-22", "1.0e-23", "4503599627370497.5",
           "1" + "0" * 30, "0." + "0" * 40 + "1", "7.2057594037927933e16",
           "1.00000000000000011102230246251565404236316680908203125",
           "1.00000000000000011102230246251565404236316680908203124",
           "1.00000000000000011102230246251565404236316680908203126",
           "6.631236846766476e-316", "3.0540412e5", "12345678901234567890",
           "1844674407370955161", "18446744073709551616", "-2.5e-3", "100", "12.34e-2"]


@pytest.mark.parametrize("tok", SPECIAL)
def test_special_numbers(tok):
    data = ('[{"image_id": 1, "category_id": 2, "bbox": [%s, %s, 1, %s], "score": %s, '
            '"area": %s}]' % (tok, "-" + tok if not tok.startswith("-") else tok[1:], tok, tok, tok))
    r = check(data)
    assert bits(r["score"])[0] == bits(np.array([pyfloat(tok)]))[0]


def test_negative_zero():
    r = check('[{"image_id": 1, "category_id": 2, "bbox": [-0.0, -0, 0.0, -0e3], "score": -0.0}]')
    # "-0" is the integer 0 for json.loads, so +0.0; "-0.0" and "-0e3" are floats
    assert [math.copysign(1, v) for v in r["bbox"][0]] == [-1, 1, 1, -1]
    assert math.copysign(1, r["score"][0]) == -1


def test_ids():
    data = ('[{"image_id": 42.0, "category_id": 1e3, "bbox": [1,2,3,4], "score": 1},'
            ' {"image_id": -0.0, "category_id": 9223372036854775807, "bbox": [1,2,3,4], "score": 1},'
            ' {"image_id": -9223372036854775808, "category_id": 0, "bbox": [1,2,3,4], "score": 1},'
            ' {"image_id": 12345678901234567.0, "category_id": -7, "bbox": [1,2,3,4], "score": 1},'
            ' {"image_id": 4.2e1, "category_id": 100000000000000000, "bbox": [1,2,3,4], "score": 1}]')
    r = check(data)
    assert r["image_id"].tolist() == [42, 0, -9223372036854775808, 12345678901234568, 42]
    assert r["category_id"].tolist() == [1000, 9223372036854775807, 0, -7, 10 ** 17]


def test_whitespace_and_key_order():
    base = [rec(i, i % 3, (i + 0.25, i * 2.5, 3, 4.125), i / 7) for i in range(20)]
    rng = np.random.default_rng(0)
    for sep in [(",", ":"), (", ", ": "), (" ,\n", " :\t")]:
        for indent in (None, 0, 2, "\t"):
            recs = []
            for d in base:
                keys = list(d)
                rng.shuffle(keys)
                recs.append({k: d[k] for k in keys})
            check(json.dumps(recs, separators=sep, indent=indent))
    check(" [ \r\n" + " ,\r\n ".join(
        '{ "score"\t:\n0.5 ,"bbox" : [ 1 , 2 ,\n3 , 4 ] , "category_id":2,"image_id" :1 }'
        for _ in range(3)) + " \n] \t")


def test_unknown_keys_are_skipped():
    extra = {
        "id": 17,
        "name": 'a"b\\\\c\u00e9 \u2603 \U0001F600 {[',
        "nested": {"a": [1, 2, {"b": [[], {}, None, True, False, -1.5e-3, "x\\y"]}], "c": {}},
        "empty_list": [], "empty_obj": {}, "t": True, "f": False, "n": None,
        "num": -12.5e+10, "deep": [[[[[[[[[[1]]]]]]]]]],
        "": "empty key", "unicode_\u00e9": 1, "bbox_": [1, 2, 3], "Score": "x",
    }
    recs = [rec(**extra), rec(image_id=2, nested_after=[{"}": "]"}])]
    data = json.dumps(recs)
    check(data)
    check(json.dumps(recs, ensure_ascii=False))
    # raw escapes written by hand, including \/ \b \f \n \r \t \uXXXX and surrogate pairs
    raw = ('[{"name": "a\\"b\\\\\\\\c\\u00e9\\/\\b\\f\\n\\r\\t\\ud83d\\ude00\\ud800", '
           '"image_id": 5, "category_id": 6, "bbox": [1, 2, 3, 4], "score": 0.25}]')
    assert json.loads(raw)[0]["image_id"] == 5
    check(raw)


def test_escaped_known_keys_and_duplicates():
    # json.loads decodes escaped keys and keeps the last of duplicate keys
    data = ('[{"\\u0069mage_id": 3, "category_id": 1, "category_id": 4, "bb\\u006fx": [1, 2, 3, 4],'
            ' "score": 0.1, "score": 0.75, "are\\u0061": 2, "area": 5}]')
    r = check(data)
    assert r["image_id"].tolist() == [3] and r["category_id"].tolist() == [4]
    assert r["score"].tolist() == [0.75] and r["area"].tolist() == [5.0]


def test_area_presence():
    r = check(json.dumps([rec(area=10.5), rec(area=None), rec()]))
    assert r["has_area"] is False
    assert r["area"][0] == 10.5 and np.isnan(r["area"][1:]).all()
    r = check(json.dumps([rec(area=10.5), rec(area=0)]))
    assert r["has_area"] is True
    # a later null wins over an earlier number, as in json.loads
    r = check('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": 1, '
              '"area": 3, "area": null}]')
    assert r["has_area"] is False


def test_nan_and_infinity_tokens_are_returned():
    data = ('[{"image_id": 1, "category_id": 2, "bbox": [NaN, Infinity, -Infinity, 1], '
            '"score": NaN, "area": -Infinity}]')
    r = parse_results_json(data.encode())
    assert np.isnan(r["bbox"][0, 0]) and r["bbox"][0, 1] == np.inf and r["bbox"][0, 2] == -np.inf
    assert np.isnan(r["score"][0]) and r["area"][0] == -np.inf
    assert_same(r, reference(data))


def test_braces_in_strings_do_not_break_the_count():
    recs = [rec(name="{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"), rec(x={"a": {"b": {}}})]
    r = check(json.dumps(recs))
    assert r["score"].shape == (2,) and r["bbox"].shape == (2, 4)


def test_smallest_records_fit_the_count_bound():
    # with geometry the bbox is optional: a record can be 40 bytes (the bound once
    # assumed 57 and ran out of rows on such files)
    small = b'{"image_id":1,"category_id":1,"score":1}'
    kpt = b'{"image_id":1,"category_id":1,"keypoints":[],"score":1}'
    for r in (small, kpt):
        for n in (1, 2, 57, 200, 1000):
            data = b"[" + b",".join([r] * n) + b"]"
            got = parse_results_json(data, geometry=True)
            assert got["score"].shape == (n,)
            assert np.isnan(got["bbox"]).all()


@pytest.mark.parametrize("key", ["segmentation", "keypoints"])
def test_segmentation_and_keypoints_fall_back(key):
    recs = [rec(), rec(**{key: [[1, 2, 3, 4, 5, 6]]})]
    with pytest.raises(NotImplementedError) as ei:
        parse_results_json(json.dumps(recs).encode())
    assert key in str(ei.value) and "record 1" in str(ei.value)
    # even written with escapes
    with pytest.raises(NotImplementedError):
        parse_results_json(('[{"segm\\u0065ntation": {}, ' + GOOD[1:] + "]").encode())


def test_utf16_falls_back():
    with pytest.raises(NotImplementedError):
        parse_results_json(("[" + GOOD + "]").encode("utf-16"))
    with pytest.raises(NotImplementedError):
        parse_results_json(("[" + GOOD + "]").encode("utf-16-le"))


def test_nesting_too_deep_falls_back():
    deep = "[" * 1500 + "]" * 1500
    with pytest.raises(NotImplementedError):
        parse_results_json(('[{"x": %s, %s]' % (deep, GOOD[1:])).encode())
    ok = "[" * 900 + "]" * 900
    check('[{"x": %s, %s]' % (ok, GOOD[1:]))


def test_threads_give_the_same_result():
    _, results = make_coco(scale="small", seed=5)
    data = json.dumps(results).encode()
    want = parse_results_json(data)
    out = [None] * 4

    def work(i):
        out[i] = parse_results_json(data)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        for k in ("image_id", "category_id", "bbox", "score"):
            assert np.array_equal(bits(o[k]), bits(want[k]))


_LOCALE_CHECK = """
import json, locale, sys
import numpy as np
locale.setlocale(locale.LC_NUMERIC, sys.argv[1])
assert locale.localeconv()["decimal_point"] == ","
from fastap._core import parse_results_json
toks = ["0.1234567890123456789", "1.5e300", "2.2250738585072011e-308", "4.5",
        "0.30000000000000004"]
data = ('[{"image_id": 1, "category_id": 2, "bbox": [%s, %s, %s, %s], "score": %s}]'
        % tuple(toks)).encode()
r = parse_results_json(data)
got = np.concatenate([r["bbox"][0], r["score"]])
want = np.array([float(t) for t in toks])
assert np.array_equal(got.view(np.int64), want.view(np.int64)), (got, want)
print("ok")
"""


def test_locale_decimal_point(tmp_path):
    """strtod's slow path must not depend on LC_NUMERIC (a ',' decimal point)."""
    import os
    import shutil
    import subprocess
    import sys

    import fastap
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastap.__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    name = None
    for cand in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"):
        try:
            old = locale.setlocale(locale.LC_NUMERIC)
            locale.setlocale(locale.LC_NUMERIC, cand)
            locale.setlocale(locale.LC_NUMERIC, old)
            name = cand
            break
        except locale.Error:
            continue
    if name is None:
        # build one (glibc): localedef into a private LOCPATH
        if not shutil.which("localedef"):
            pytest.skip("no locale with a ',' decimal point and no localedef")
        name = "de_DE.UTF-8"
        r = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(tmp_path / name)],
                           capture_output=True)
        if not (tmp_path / name).exists():
            pytest.skip("localedef could not build de_DE.UTF-8: %r" % r.stderr[-200:])
        env["LOCPATH"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-c", _LOCALE_CHECK, name], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


# ----------------------------------------------------------------------------------
# hypothesis
# ----------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(finite, min_size=4, max_size=4), finite,
                          st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-2 ** 63, 2 ** 63 - 1)),
                max_size=20))
def test_random_floats_repr(rows):
    recs = [{"image_id": i, "category_id": c, "bbox": b, "score": s} for b, s, i, c in rows]
    data = json.dumps(recs)          # floats written with repr
    r = check(data)
    if rows:
        want = np.array([b for b, _, _, _ in rows], dtype=np.float64).reshape(-1, 4)
        assert np.array_equal(bits(r["bbox"]), bits(want))
        assert np.array_equal(bits(r["score"]), bits(np.array([s for _, s, _, _ in rows])))


number_text = st.builds(
    lambda sign, i, f, e: sign + i + f + e,
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.builds(lambda a, b: a + b, st.sampled_from("123456789"),
                                      st.text("0123456789", max_size=24))),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=24).map(lambda t: "." + t)),
    st.one_of(st.just(""), st.builds(lambda c, s, d: c + s + d, st.sampled_from("eE"),
                                     st.sampled_from(["", "+", "-"]),
                                     st.text("0123456789", min_size=1, max_size=3))))


@settings(max_examples=1000, deadline=None)
@given(st.lists(number_text, min_size=5, max_size=5))
def test_random_number_text(toks):
    data = '[{"image_id": 1, "category_id": 2, "bbox": [%s, %s, %s, %s], "score": %s}]' % tuple(toks)
    r = check(data)
    want = np.array([pyfloat(t) for t in toks])
    got = np.concatenate([r["bbox"][0], r["score"]])
    assert np.array_equal(bits(got), bits(want)), toks


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2 ** 64), st.integers(0, 40), st.integers(-30, 30), st.booleans())
def test_fast_path_boundaries(w, frac_digits, exp, neg):
    s = str(w)
    if frac_digits:
        s = s.rjust(frac_digits + 1, "0")
        s = s[:-frac_digits] + "." + s[-frac_digits:]
    tok = ("-" if neg else "") + s + ("e%d" % exp if exp else "")
    data = '[{"image_id": 1, "category_id": 2, "bbox": [%s, 0, 0, 0], "score": 1}]' % tok
    r = check(data)
    assert bits(r["bbox"][:, 0])[0] == bits(np.array([pyfloat(tok)]))[0], tok


def _midpoint_tokens():
    """Decimal tokens (<= 19 significant digits) exactly halfway between two adjacent
    doubles, and their neighbours one unit in the last digit away: the round-to-even
    cases of the fast paths."""
    from decimal import Decimal
    from fractions import Fraction
    rng = np.random.default_rng(7)
    toks = []
    for e2 in list(range(50, 64)) + list(range(64, 80, 3)):
        for _ in range(40):
            m = int(rng.integers(2 ** 52, 2 ** 53))
            lo = Fraction(m) * Fraction(2) ** (e2 - 52)
            mid = lo + Fraction(2) ** (e2 - 53)
            d = Decimal(mid.numerator) / Decimal(mid.denominator) if mid.denominator > 1 \
                else Decimal(mid.numerator)
            t = format(d.normalize(), "f") if mid.denominator > 1 else str(mid.numerator)
            digits = t.replace(".", "").lstrip("0")
            if len(digits.rstrip("0")) <= 19:
                toks.append(t)
                last = Decimal(1).scaleb(d.normalize().as_tuple().exponent)
                toks.append(format(d.normalize() + last, "f"))
                toks.append(format(d.normalize() - last, "f"))
    return toks


def test_halfway_cases():
    toks = _midpoint_tokens()
    assert len(toks) > 500
    for i in range(0, len(toks) - 4, 5):
        chunk = toks[i:i + 5]
        data = '[{"image_id": 1, "category_id": 2, "bbox": [%s, %s, %s, %s], "score": %s}]' % tuple(chunk)
        r = check(data)
        want = np.array([pyfloat(t) for t in chunk])
        got = np.concatenate([r["bbox"][0], r["score"]])
        assert np.array_equal(bits(got), bits(want)), chunk


_VALID_DOC = json.dumps([rec(1, 2, (1.5, 2.25, 3e-5, 4), 0.5, id=3, name='q"\\u00e9',
                             extra=[1, {"a": None}]),
                         rec(7, 8, (-1, 0, 1e300, 2), 1, area=2.5)]).encode()


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID_DOC) - 1),
                          st.sampled_from(list(b' \t\n",:[]{}0123456789.-+eEaxnNI\\u\x00\xc3\xff')),
                          st.sampled_from(["replace", "insert", "delete"])),
                min_size=1, max_size=3))
def test_mutations_agree_with_json(muts):
    """Whatever we accept, json.loads accepts with the same values; whatever json.loads
    rejects, we reject (with a ValueError or NotImplementedError, never a crash)."""
    b = bytearray(_VALID_DOC)
    for pos, ch, op in muts:
        pos = min(pos, len(b) - 1) if b else 0
        if op == "replace" and b:
            b[pos] = ch
        elif op == "insert":
            b[pos:pos] = bytes([ch])
        elif b:
            del b[pos]
    data = bytes(b)
    try:
        got = parse_results_json(data)
    except NotImplementedError:
        return
    except ValueError:
        try:
            recs = json.loads(data)
        except (ValueError, RecursionError):
            return
        # json accepted it: our rejection must be a semantic one (a field rule)
        try:
            reference(data)
        except (AssertionError, KeyError, TypeError, ValueError, OverflowError, AttributeError):
            return
        raise AssertionError("rejected valid results: %r" % (recs,))
    assert_same(got, reference(data))


def test_every_prefix_is_rejected():
    data = _VALID_DOC
    for k in range(len(data)):
        with pytest.raises(ValueError):
            parse_results_json(data[:k])
    check(data)


# ----------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------

def test_error_truncated():
    data = ("[" + GOOD + ", " + GOOD[:40]).encode()
    msg, e = err_of(data)
    assert "unexpected end of file" in msg and "record 1" in msg
    assert e.record == 1 and e.offset == len(data)
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)
    msg, _ = err_of("[" + GOOD + ",")
    assert "unexpected end of file" in msg
    msg, _ = err_of("")
    assert "unexpected end of file" in msg
    msg, _ = err_of('[{"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5, "x": "abc')
    assert "record 0" in msg and "field 'x'" in msg and "end of file" in msg


def test_error_not_a_list():
    msg, e = err_of(GOOD)
    assert "not a JSON array" in msg and e.record == -1
    msg, _ = err_of("{}")
    assert "not a JSON array" in msg and "got object" in msg
    msg, _ = err_of('"abc"')
    assert "not a JSON array" in msg


def test_error_missing_field():
    for field in ("image_id", "category_id", "bbox", "score"):
        d = rec()
        del d[field]
        msg, e = err_of(json.dumps([rec(), rec(), d]))
        assert "record 2" in msg and ("field '%s'" % field) in msg
        assert ("missing field '%s'" % field) in msg
        assert e.record == 2 and e.field == field
    msg, _ = err_of("[{}]")
    assert "record 0" in msg and "missing field 'image_id'" in msg


def test_error_bbox_length():
    for box, n in (([1, 2, 3], 3), ([], 0), ([1, 2, 3, 4, 5], 5), ([1, 2, 3, 4, "x"], 5)):
        d = rec()
        d["bbox"] = box
        msg, e = err_of(json.dumps([rec()] * 17 + [d]))
        assert "record 17" in msg and "field 'bbox'" in msg
        assert ("bbox must have 4 numbers, got %d" % n) in msg, msg
        assert e.field == "bbox" and e.record == 17
    d = rec()
    d["bbox"] = "1,2,3,4"
    msg, _ = err_of(json.dumps([d]))
    assert "bbox must be an array of 4 numbers, got string" in msg


def test_error_wrong_types():
    cases = [
        (rec(score="0.5"), "score", "expected a number, got string"),
        (rec(score=None), "score", "expected a number, got null"),
        (rec(score=[0.5]), "score", "expected a number, got array"),
        (rec(image_id="12"), "image_id", "got string"),
        (rec(category_id=True), "category_id", "got boolean"),
        (rec(bbox=[1, "2", 3, 4]), "bbox", "expected a number, got string"),
        (rec(bbox=[1, None, 3, 4]), "bbox", "expected a number, got null"),
        (rec(area="big"), "area", "expected a number, got string"),
    ]
    for d, field, text in cases:
        msg, e = err_of(json.dumps([rec(), d]))
        assert "record 1" in msg and ("field '%s'" % field) in msg and text in msg, msg


def test_error_bad_ids():
    for tok, text in (("42.5", "image_id must be an integer, got 42.5"),
                      ("1e-1", "must be an integer"),
                      ("9223372036854775808", "outside the int64 range"),
                      ("-9223372036854775809", "outside the int64 range"),
                      ("123456789012345678901234567890", "outside the int64 range"),
                      ("1e19", "int64 range"), ("NaN", "must be an integer"),
                      ("Infinity", "int64 range"), ("-Infinity", "int64 range")):
        data = '[%s, {"image_id": %s, "category_id": 2, "bbox": [1,2,3,4], "score": 1}]' % (GOOD, tok)
        msg, e = err_of(data)
        assert "record 1" in msg and "field 'image_id'" in msg and text in msg, msg
        assert e.offset == data.index(tok, len(GOOD) + 2)
    msg, _ = err_of('[{"image_id": 1, "category_id": 0.5, "bbox": [1,2,3,4], "score": 1}]')
    assert "category_id must be an integer, got 0.5" in msg and "field 'category_id'" in msg


def test_error_trailing_garbage():
    for tail in ("x", "]", ",", "[]", "\x00", "{}"):
        data = "[" + GOOD + "] " + tail
        msg, e = err_of(data)
        assert "after the closing ']'" in msg and e.offset == len(GOOD) + 3, msg
        with pytest.raises(json.JSONDecodeError):
            json.loads(data)


def test_error_syntax():
    cases = [
        ("[" + GOOD + ",]", "record 1", "expected an object (record), got ']'"),
        ("[" + GOOD + " " + GOOD + "]", "record 0", "expected ',' or ']' after the record"),
        ('[{"image_id": 1,}]', "record 0", "expected a field name"),
        ('[{"image_id" 1}]', "field 'image_id'", "expected ':'"),
        ('[{"image_id": 01, "category_id": 2, "bbox": [1,2,3,4], "score": 1}]', "record 0",
         "expected ',' or '}'"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": 1.}]', "field 'score'",
         "invalid number"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": 1e}]', "field 'score'",
         "invalid number"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": -}]', "field 'score'",
         "invalid number"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": +1}]', "field 'score'",
         "expected a number, got '+'"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": .5}]', "field 'score'",
         "expected a number"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": nan}]', "field 'score'",
         "expected a number, got an invalid literal"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4], "score": -NaN}]', "field 'score'",
         "invalid number"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,3,4,], "score": 1}]', "field 'bbox'",
         "got ']'"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1,2,], "score": 1}]', "field 'bbox'",
         "expected a number, got ']'"),
        ('[{"image_id": 1, "category_id": 2, "bbox": [1 2,3,4], "score": 1}]', "field 'bbox'",
         "expected ',' or ']' in bbox"),
        ('[{"name": "a\\x", ' + GOOD[1:] + "]", "field 'name'", "invalid escape"),
        ('[{"name": "a\\u12g4", ' + GOOD[1:] + "]", "field 'name'", "invalid \\uXXXX escape"),
        ('[{"name": "a\tb", ' + GOOD[1:] + "]", "field 'name'", "invalid control character"),
        ('[{"name": tru, ' + GOOD[1:] + "]", "field 'name'", "invalid literal"),
        ('[{"name": [1, 2}, ' + GOOD[1:] + "]", "field 'name'", "expected ',' or ']'"),
        ('[{"name": {"a" 1}, ' + GOOD[1:] + "]", "field 'name'", "expected ':'"),
        ('[{"name": {1: 2}, ' + GOOD[1:] + "]", "field 'name'", "expected a string (object key)"),
        ('[{"name": {"a": 1,}, ' + GOOD[1:] + "]", "field 'name'", "expected a string"),
        ("[1]", "record 0", "expected an object (record), got number"),
    ]
    for data, where, text in cases:
        msg, _ = err_of(data)
        assert where in msg and text in msg, (data, msg)
        if data != "[1]":   # valid JSON, but not a list of records
            with pytest.raises(ValueError):
                json.loads(data)


def test_error_invalid_utf8():
    for bad in (b"\xff", b"\xc3", b"\xc0\xaf", b"\xe0\x80\x80", b"\xf4\x90\x80\x80", b"\x80"):
        data = b'[{"name": "a' + bad + b'b", ' + GOOD[1:].encode() + b"]"
        msg, _ = err_of(data)
        assert "invalid UTF-8" in msg and "field 'name'" in msg
        with pytest.raises(ValueError):
            json.loads(data)
    # encoded surrogates pass (json.loads decodes bytes with 'surrogatepass')
    data = b'[{"name": "a\xed\xa0\x80b", ' + GOOD[1:].encode() + b"]"
    check(data)


def test_error_is_a_value_error_with_attributes():
    data = json.dumps([rec()] * 3 + [rec(bbox=[1, 2, 3])])
    _, e = err_of(data)
    assert isinstance(e, ValueError)
    if ResultsJSONError is not ValueError:
        assert isinstance(e, ResultsJSONError)
        assert e.record == 3 and e.field == "bbox"
        assert e.reason == "bbox must have 4 numbers, got 3"
        assert e.offset == data.rindex("[1, 2, 3]")
        assert str(e) == ("results JSON: record 3, field 'bbox': bbox must have 4 numbers, "
                          "got 3 (byte %d)" % e.offset)


# ----------------------------------------------------------------------------------
# scale
# ----------------------------------------------------------------------------------

def test_coco_val2017_scale():
    _, results = make_coco(scale="coco_val2017")
    data = json.dumps(results).encode()
    del results
    assert 500_000 <= data.count(b"{") <= 510_000

    def best(f, k):
        ts = []
        for _ in range(k):
            t = time.perf_counter()
            out = f()
            ts.append(time.perf_counter() - t)
        return min(ts), out

    t_fast, got = best(lambda: parse_results_json(data), 5)

    def general():
        recs = json.loads(data)
        return reference_from(recs)

    def reference_from(recs):
        return dict(image_id=np.array([r["image_id"] for r in recs], np.int64),
                    category_id=np.array([r["category_id"] for r in recs], np.int64),
                    bbox=np.array([r["bbox"] for r in recs], np.float64),
                    score=np.array([r["score"] for r in recs], np.float64),
                    area=np.full(len(recs), np.nan), has_area=False)

    t_json, want = best(general, 1)
    assert_same(got, want)
    del want
    msg = "\n500k records (%.1f MB): fastap %.1f ms, json.loads+np.array %.0f ms (%.0fx)" % (
        len(data) / 1e6, t_fast * 1e3, t_json * 1e3, t_json / t_fast)
    try:
        import orjson
        t_or, recs = best(lambda: orjson.loads(data), 1)
        del recs
        t_orn, _ = best(lambda: reference_from(orjson.loads(data)), 1)
        msg += ", orjson.loads %.0f ms (+np.array %.0f ms)" % (t_or * 1e3, t_orn * 1e3)
    except ImportError:
        pass
    print(msg)
    assert len(got["score"]) == 500_000


# ----------------------------------------------------------------------------------
# one file on many threads: parts split at guessed record starts (_min_part_bytes
# forces the split on small inputs); every result and every error equals the serial
# scan's
# ----------------------------------------------------------------------------------

from fastap._core import _results_json_split  # noqa: E402

SPLIT_THREADS = (2, 3, 4, 7)


def _outcome(data, nt, **kw):
    """("ok", columns) or ("error", type, message, record, field, offset)."""
    try:
        return ("ok", parse_results_json(data, num_threads=nt, **kw))
    except (ValueError, NotImplementedError, MemoryError, RuntimeError) as e:
        return ("error", type(e), str(e), getattr(e, "record", None), getattr(e, "field", None),
                getattr(e, "offset", None))


def _assert_same_columns(got, want, kpt_xy=False):
    assert set(got) == set(want)
    for k, w in want.items():
        g = got[k]
        if k == "has_area":
            assert g == w
        elif k == "kpt_values":   # rows (or their tails) without keypoints are not written
            cnt = np.maximum(want["kpt_count"], 0)
            if kpt_xy:            # x and y of each triple
                cnt = cnt // 3 * 2 + np.minimum(cnt % 3, 2)
            cnt = np.minimum(cnt, w.shape[1])
            assert g.shape == w.shape
            for i in range(len(cnt)):
                assert np.array_equal(bits(g[i, :cnt[i]]), bits(w[i, :cnt[i]])), (k, i)
        else:
            assert g.dtype == w.dtype and g.shape == w.shape, k
            assert np.array_equal(np.ascontiguousarray(g).view(np.uint8),
                                  np.ascontiguousarray(w).view(np.uint8)), k


def split_parity(data, threads=SPLIT_THREADS, min_part_bytes=(1, 200), **kw):
    """Parse serially and split on each thread count; all outcomes are identical.
    Returns the serial outcome."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    want = _outcome(data, 1, **kw)
    for nt in threads:
        for mpb in min_part_bytes:
            got = _outcome(data, nt, _min_part_bytes=mpb, **kw)
            assert got[0] == want[0], (nt, mpb, got[1:], want[1:])
            if want[0] == "ok":
                _assert_same_columns(got[1], want[1], kw.get("kpt_xy", False))
            else:
                assert got[1:] == want[1:], (nt, mpb)
    return want


def _record_starts(recs, sep=", "):
    """The document '[' + sep.join(json.dumps(r)) + ']' and the offsets of its records."""
    parts, starts, pos = [], [], 1
    for r in recs:
        t = json.dumps(r)
        starts.append(pos)
        parts.append(t)
        pos += len(t) + len(sep)
    return ("[" + sep.join(parts) + "]").encode(), starts


def test_split_guesses_record_starts():
    recs = [rec(image_id=i, score=i / 7) for i in range(200)]
    data, starts = _record_starts(recs)
    for n in (1, 2, 3, 7, 50):
        begins = _results_json_split(data, n)
        assert begins[0] == 0 and len(begins) == n
        assert begins == sorted(set(begins))
        assert set(begins[1:]) <= set(starts)
    # too many parts for the records: fewer parts, still increasing
    begins = _results_json_split(data[:300], 64)
    assert begins == sorted(set(begins)) and len(begins) < 64
    assert _results_json_split(b"", 4) == [0]
    assert _results_json_split(b"[" + GOOD.encode() + b"]", 4) == [0]


def test_split_parity_synthetic_boxes():
    _, results = make_coco(scale="small", seed=5, edge_cases=True)
    for r in results[::3]:
        r["area"] = r["bbox"][2] * r["bbox"][3]
    data = json.dumps(results).encode()
    want = split_parity(data, min_part_bytes=(1, 4096, 1 << 20))
    assert want[0] == "ok" and len(want[1]["score"]) == len(results)
    assert not want[1]["has_area"]
    assert_same(want[1], reference(data))
    # all records with an area: has_area combines over the parts
    for r in results:
        r["area"] = 1.5
    assert split_parity(json.dumps(results[:3000]))[1]["has_area"]


def test_split_parity_segm_records():
    # compressed RLE records hold two '{' each: every part gets twice the rows it fills,
    # so the rows of later parts move down
    _, res = make_segm_coco(7, n_images=20, dets_per_image=30)
    data = json.dumps(res).encode()
    want = split_parity(data, geometry=True)
    assert want[0] == "ok" and len(want[1]["score"]) == len(res)
    spans = want[1]["seg_span"]
    for i in (0, len(res) // 2, len(res) - 1):
        assert json.loads(data[spans[i, 0]:spans[i, 1]]) == res[i]["segmentation"]
    with_box = [dict(r, bbox=[1.0, 2.0, 3.0, 4.0]) for r in res]
    split_parity(json.dumps(with_box, indent=1), geometry=True)
    # without geometry: every part stops at its first record, the error is record 0's
    want = split_parity(data)
    assert want[1] is NotImplementedError and "record 0" in want[2]


def test_split_parity_keypoint_records():
    _, res = make_keypoints_coco(4, n_images=60, edge_cases=True)
    res[len(res) // 2]["keypoints"] = res[len(res) // 2]["keypoints"][:9]      # fewer
    res[len(res) // 3]["keypoints"] = res[len(res) // 3]["keypoints"] + [1, 2, 3]  # more
    data = json.dumps(res).encode()
    for stride in (0, 51, 3):
        want = split_parity(data, geometry=True, kpt_stride=stride)
        assert want[0] == "ok" and len(want[1]["score"]) == len(res)
    assert want[1]["kpt_count"].max() == 4
    for stride in (51, 3):
        full = parse_results_json(data, geometry=True, kpt_stride=stride)
        xy = split_parity(data, geometry=True, kpt_stride=stride, kpt_xy=True)[1]
        # the same counts and boxes; the values are the x and y of the full rows
        for k in ("kpt_count", "kpt_box", "kpt_span", "score"):
            assert np.array_equal(bits(xy[k]), bits(full[k])), k
        assert xy["kpt_values"].shape == (len(res), stride // 3 * 2)
        ok = full["kpt_count"] == stride
        pairs = full["kpt_values"][ok].reshape(-1, stride // 3, 3)[:, :, :2].reshape(-1, stride // 3 * 2)
        assert np.array_equal(bits(xy["kpt_values"][ok]), bits(pairs))
    with pytest.raises(ValueError, match="kpt_xy"):
        parse_results_json(data, geometry=True, kpt_stride=50, kpt_xy=True)
    assert split_parity(data)[1] is NotImplementedError


def test_split_parity_adversarial_guesses():
    nested = [rec(image_id=i, attrs=[{"a": 1}, {"b": [2, {"c": 3}]}, {"d": "x"}]) for i in range(60)]
    as_records = [rec(image_id=i, others=[rec(image_id=-1), rec(image_id=-2)]) for i in range(60)]
    in_strings = [rec(image_id=i, note='}, {"image_id": 3, "x": "}, {') for i in range(60)]
    ends_in_brace = [rec(image_id=i, note="a}, {") for i in range(60)]   # }, {" with the closing quote
    mixed = [rec(image_id=i, area=float(i)) if i % 3 else rec(image_id=i, x=[{}], y={"z": [{}]})
             for i in range(200)]
    for recs in (nested, as_records, in_strings, ends_in_brace, mixed):
        for text in (json.dumps(recs), json.dumps(recs, indent=2), json.dumps(recs, indent="\t"),
                     json.dumps(recs, separators=(",", ":"))):
            for t in (text, text.replace("\n", "\r\n"), "\ufeff \n" + text + " \n\t"):
                want = split_parity(t, min_part_bytes=(1, 97))
                assert want[0] == "ok" and len(want[1]["score"]) == len(recs)
    # some of those guesses are wrong: inside a string, or an object nested in a record
    data, starts = _record_starts(ends_in_brace)
    assert set(_results_json_split(data, 16)[1:]) - set(starts)
    data, starts = _record_starts(as_records)
    assert set(_results_json_split(data, 16)[1:]) - set(starts)


def test_split_parity_every_guess_wrong():
    # long lists of objects in every record and a short tail: each nominal split point
    # falls in a list, whose first "}, {\"" is inside the record
    recs = [rec(image_id=i, attrs=[{"k": j} for j in range(60)]) for i in range(40)]
    data, starts = _record_starts(recs)
    for n in (2, 3, 4, 7):
        begins = _results_json_split(data, n)
        assert len(begins) == n and not set(begins[1:]) & set(starts), n
    want = split_parity(data)
    assert want[0] == "ok" and want[1]["image_id"].tolist() == list(range(40))


def test_split_parity_small_and_empty():
    for text in ("[]", "[ ]", " [\n] ", "\ufeff[]", "[" + GOOD + "]", "[" + GOOD + "," + GOOD + "]",
                 "", " ", "[", "]", "{}", "[{}]", "null"):
        split_parity(text)


def test_split_errors_equal_serial():
    recs = [rec(image_id=i, score=i / 3) for i in range(400)]
    base, starts = _record_starts(recs)
    text = base.decode()
    for idx in (0, 1, 99, 150, 200, 201, 299, 300, 399):
        bad = list(recs)
        for d, expect in ((rec(image_id=idx, bbox=[1, 2, 3]), "bbox must have 4 numbers, got 3"),
                          (rec(image_id=idx, score="x"), "expected a number, got string"),
                          ({"image_id": idx}, "missing field 'category_id'"),
                          (rec(image_id=idx, segmentation=[[1, 2, 3, 4, 5, 6]]), "segmentation")):
            bad[idx] = d
            want = split_parity(json.dumps(bad))
            assert want[0] == "error" and ("record %d" % idx) in want[2] and expect in want[2]
            if want[1] is not NotImplementedError:
                assert want[3] == idx
    # records holding an object (two '{' each): parts fill half their rows, and the
    # record index of an error counts the records before the part, not its rows
    recs2 = [rec(image_id=i, extra={"k": i}) for i in range(400)]
    for idx in (150, 250, 399):
        bad = list(recs2)
        bad[idx] = rec(image_id=idx, bbox=[1, 2, 3, 4, 5], extra={"k": 0})
        want = split_parity(json.dumps(bad))
        assert want[3] == idx and "got 5" in want[2]
    # two errors: the first one is reported
    bad = list(recs)
    bad[120] = rec(image_id=120, bbox=[1])
    bad[330] = rec(image_id=330, score=None)
    want = split_parity(json.dumps(bad))
    assert want[3] == 120 and "got 1" in want[2]
    # a syntax error right at a split point and inside a separator
    for i in (starts[100], starts[250], starts[300] - 2, starts[300] - 1):
        for b in (b"x", b"]", b",", b"}", b"{", b" "):
            split_parity(base[:i] + b + base[i + 1:])


def test_split_errors_truncated_and_trailing():
    recs = [rec(image_id=i, bbox=[i, 2.5, 3, 4]) for i in range(150)]
    data = json.dumps(recs).encode()
    for k in list(range(0, len(data), 997)) + [len(data) - 2, len(data) - 1]:
        want = split_parity(data[:k])
        assert want[0] == "error"
    for tail in (b"x", b"]", b",", b"[]", b"\x00", b"{}", b', {"image_id": 1}'):
        want = split_parity(data + b" " + tail)
        assert want[0] == "error" and "after the closing ']'" in want[2]
    # an array closed early, then more records: the later parts are wrong guesses
    text = json.dumps(recs[:75])[:-1] + "]," + json.dumps(recs[75:])[1:]
    want = split_parity(text)
    assert want[0] == "error" and want[5] == text.index("}],") + 2


def test_split_errors_in_wrong_guesses_are_not_reported():
    # the objects nested in records fail as records (no image_id), the file is fine
    recs = [rec(image_id=i, attrs=[{"bad": 1}, {"bbox": [1]}, {"score": "x"}]) for i in range(80)]
    want = split_parity(json.dumps(recs))
    assert want[0] == "ok"
    # ... and a real error after them is still reported as the serial scan does
    recs[60] = rec(image_id=60, bbox=[1, 2], attrs=[{"a": 1}, {"b": 2}])
    want = split_parity(json.dumps(recs))
    assert want[0] == "error" and want[3] == 60 and "got 2" in want[2]


def test_split_mutations_agree_with_serial():
    rng = np.random.default_rng(3)
    recs = [rec(image_id=i, area=1.0 if i % 2 else None, attrs=[{"a": i}, {"b": "}, {"}])
            for i in range(60)]
    data = json.dumps(recs).encode()
    alphabet = b'{}[],:" x0.-e\\'
    for _ in range(300):
        b = bytearray(data)
        for _ in range(int(rng.integers(1, 3))):
            pos = int(rng.integers(0, len(b)))
            op = rng.integers(0, 3)
            ch = alphabet[int(rng.integers(0, len(alphabet)))]
            if op == 0:
                b[pos] = ch
            elif op == 1:
                del b[pos]
            else:
                b.insert(pos, ch)
        split_parity(bytes(b), threads=(2, 5), min_part_bytes=(1,))


def test_split_threads_argument():
    data = json.dumps([rec(image_id=i) for i in range(50)]).encode()
    with pytest.raises(ValueError):
        parse_results_json(data, num_threads=0)
    with pytest.raises(ValueError):
        parse_results_json(data, _min_part_bytes=0)


def test_split_scale_bench_file():
    """The bench's results file (when it is there): the split scan equals the serial one."""
    path = "/tmp/fastap-bench-data/coco_val2017-seed0/results.json"
    if not os.path.exists(path):
        pytest.skip("no bench data")
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        want = _outcome(data, 1)
        for nt in (2, 4):
            got = _outcome(data, nt)
            _assert_same_columns(got[1], want[1])


# ==================================================================================
# ground-truth files: json_object_members + parse_annotations_json
# ==================================================================================

import glob  # noqa: E402
import mmap  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402

from fastap._core import json_member_spans, json_object_members, parse_annotations_json  # noqa: E402

REALDATA = os.path.join(os.path.dirname(__file__), "data", "realdata")
REAL_GT_FILES = sorted(p for p in glob.glob(os.path.join(REALDATA, "*", "*.json"))
                       if os.path.basename(p) not in ("case.json", "expected.json"))
ANN_KEYS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd")


def ann_reference(anns):
    """Columns built from json.loads' list of annotation dicts."""
    n = len(anns)

    def as_id(v):
        assert not isinstance(v, bool)
        if isinstance(v, float):
            assert v == int(v)
            return int(v)
        return v

    def crowd(v):
        assert v in (0, 1)  # True / False / 0 / 1 / 0.0 / 1.0
        return int(v)

    return dict(
        id=np.array([as_id(a["id"]) for a in anns], np.int64).reshape(n),
        image_id=np.array([as_id(a["image_id"]) for a in anns], np.int64).reshape(n),
        category_id=np.array([as_id(a["category_id"]) for a in anns], np.int64).reshape(n),
        bbox=np.array([[float(v) for v in a["bbox"]] for a in anns], np.float64).reshape(n, 4),
        area=np.array([float(a["area"]) for a in anns], np.float64).reshape(n),
        iscrowd=np.array([crowd(a.get("iscrowd", 0)) for a in anns], np.uint8).reshape(n))


def assert_ann_same(got, want):
    assert set(got) == set(ANN_KEYS)
    for k in ("id", "image_id", "category_id"):
        assert got[k].dtype == np.int64 and got[k].ndim == 1, k
        np.testing.assert_array_equal(got[k], want[k])
    assert got["iscrowd"].dtype == np.uint8
    np.testing.assert_array_equal(got["iscrowd"], want["iscrowd"])
    for k in ("bbox", "area"):
        g, w = got[k], want[k]
        assert g.dtype == np.float64 and g.shape == w.shape and g.flags.c_contiguous, k
        nan = np.isnan(w)
        assert np.array_equal(np.isnan(g), nan), k
        assert np.array_equal(bits(g)[~nan], bits(w)[~nan]), k


def check_gt(data):
    """Members spans and annotation columns against json.loads; returns the columns."""
    ref = json.loads(data)
    members = json_object_members(data)
    assert [k for k, _, _ in members] == list(ref)          # order; no duplicates here
    for key, s, e in members:
        assert json.loads(data[s:e]) == ref[key], key
        assert data[s:e].strip() == data[s:e]               # first to last byte
    spans = {k: (s, e) for k, s, e in members}
    s, e = spans["annotations"]
    got = parse_annotations_json(data, s, e)
    assert_ann_same(got, ann_reference(ref["annotations"]))
    # the span alone is a valid input as well
    assert_ann_same(parse_annotations_json(data[s:e]), ann_reference(ref["annotations"]))
    return got


def rich_dataset(seed=0):
    """make_coco's edge-case dataset plus what real files carry: polygon and RLE
    segmentations (RLE counts strings with escapes, int-list counts), keypoints,
    captions, unicode file names, extra top-level members."""
    d, _ = make_coco(seed, edge_cases=True, scale="small")
    rng = np.random.default_rng(seed)
    for i, a in enumerate(d["annotations"]):
        x, y, w, h = a["bbox"]
        r = i % 7
        if r == 0:
            a["segmentation"] = [[round(x, 2), round(y, 2), round(x + w, 2), round(y, 2),
                                  round(x + w, 2), round(y + h, 2)]]
        elif r == 1:
            a["segmentation"] = {"size": [480, 640], "counts": 'ab\\cd"e]}{[,:0' + str(i)}
            a["iscrowd"] = 1
        elif r == 2:
            a["segmentation"] = {"size": [480, 640], "counts": rng.integers(0, 99, 9).tolist()}
        elif r == 3:
            a["keypoints"] = rng.integers(0, 600, 51).tolist()
            a["num_keypoints"] = 17
        elif r == 4:
            a["caption"] = "un chat \u00e9tonn\u00e9 \U0001f431 {\"quoted\"} [x]"
            a["attributes"] = {"occluded": False, "nested": [[], {}, [None, True, 1e-7]]}
        elif r == 5:
            a["segmentation"] = []
    for im in d["images"][::3]:
        im["file_name"] = "caf\u00e9/\u5199\u771f_%d.jpg" % im["id"]
    d["licenses"] = [{"id": 1, "name": "CC \"BY\" \\ 4.0", "url": "http://x/"}]
    d["info"]["contributor"] = "\u00c5ngstr\u00f6m"
    d["extra_member"] = {"a": [1, 2.5, -3e10, None, "z"], "b": ""}
    return d


def test_gt_synthetic_rich():
    d = rich_dataset(0)
    got = check_gt(json.dumps(d).encode())
    assert len(got["id"]) == len(d["annotations"]) > 1000
    assert got["iscrowd"].any()
    # unicode stays as UTF-8 bytes (ensure_ascii=False)
    check_gt(json.dumps(d, ensure_ascii=False).encode())


def test_gt_reordered_and_pretty_printed():
    d = rich_dataset(1)
    keys = ["categories", "extra_member", "annotations", "licenses", "images", "info"]
    d2 = {k: d[k] for k in keys}
    for indent in (None, 2, "\t"):
        data = json.dumps(d2, indent=indent).encode()
        members = json_object_members(data)
        assert [k for k, _, _ in members] == keys
        check_gt(data)
    # annotation keys in another order, records pretty-printed
    d2["annotations"] = [dict(reversed(list(a.items()))) for a in d["annotations"]]
    check_gt(json.dumps(d2, indent=2).encode())
    check_gt(("\ufeff \r\n" + json.dumps(d2, separators=(",", ":")) + "\n\t ").encode())


@pytest.mark.parametrize("path", REAL_GT_FILES)
def test_gt_real_files(path):
    with open(path, "rb") as f:
        data = f.read()
    ref = json.loads(data)
    if not isinstance(ref, dict):
        with pytest.raises(ValueError, match="expected a JSON object"):
            json_object_members(data)
        return
    if "annotations" not in ref:
        assert [k for k, _, _ in json_object_members(data)] == list(ref)
        return
    got = check_gt(data)
    assert len(got["id"]) == len(ref["annotations"])


def test_gt_real_files_have_segmentations():
    """The real files above do exercise the skipping of polygon and RLE masks."""
    with open(os.path.join(REALDATA, "cocoapi_val2014_fake100", "instances_val2014_100.json"), "rb") as f:
        ref = json.load(f)
    segs = [a["segmentation"] for a in ref["annotations"]]
    assert any(isinstance(s, list) for s in segs)
    assert any(isinstance(s, dict) for s in segs)
    assert any(a["iscrowd"] == 1 for a in ref["annotations"])


def test_gt_members_basic():
    assert json_object_members(b"{}") == []
    assert json_object_members(b' \n{ } ') == []
    data = b'{"a": 1, "b" : [1, {"c": "}"}] ,"a":"x\\"y", "":null, "k\\u00e9y\\n": {}}'
    m = json_object_members(data)
    assert [k for k, _, _ in m] == ["a", "b", "a", "", "k\u00e9y\n"]
    assert [data[s:e] for _, s, e in m] == [b"1", b'[1, {"c": "}"}]', b'"x\\"y"', b"null", b"{}"]
    # unicode key written raw
    data = '{"\u5199\u771f": 3, "\U0001f431": [true]}'.encode()
    assert [(k, data[s:e]) for k, s, e in json_object_members(data)] == [
        ("\u5199\u771f", b"3"), ("\U0001f431", b"[true]")]
    # many members: the capacity is retried
    d = {"k%d" % i: [i, {"x": i}] for i in range(1000)}
    data = json.dumps(d).encode()
    m = json_object_members(data)
    assert len(m) == 1000 and all(json.loads(data[s:e]) == d[k] for k, s, e in m)


def test_gt_buffers_and_spans(tmp_path):
    d = rich_dataset(2)
    data = json.dumps(d).encode()
    want = ann_reference(d["annotations"])
    path = tmp_path / "gt.json"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        members = json_object_members(mm)
        assert members == json_object_members(data)
        s, e = {k: (s, e) for k, s, e in members}["annotations"]
        assert_ann_same(parse_annotations_json(mm, s, e), want)
        del members
    for buf in (bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        assert json_object_members(buf) == json_object_members(data)
        assert_ann_same(parse_annotations_json(buf, s, e), want)
    with pytest.raises(TypeError):
        json_object_members(data.decode())
    with pytest.raises(TypeError):
        parse_annotations_json(data.decode())
    for bad in ((-1, e), (s, len(data) + 1), (e, s)):
        with pytest.raises(ValueError, match="start"):
            parse_annotations_json(data, *bad)


ANN = '{"id": 1, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 12}'


def ann(**kw):
    a = {"id": 1, "image_id": 2, "category_id": 3, "bbox": [1.5, 2, 3, 4], "area": 12.0}
    a.update(kw)
    return a


def test_gt_annotations_values():
    anns = [ann(), ann(iscrowd=1), ann(iscrowd=True), ann(iscrowd=False), ann(iscrowd=0),
            ann(iscrowd=1.0), ann(iscrowd=0.0), ann(id=7.0, image_id=-3, category_id=1e3),
            ann(area=-0.0, bbox=[-0.0, 1e-320, 1.7976931348623157e308, 0.1 + 0.2]),
            ann(id=2 ** 63 - 1, image_id=-2 ** 63), ann(score=0.9, ignore=1, segmentation=None)]
    data = json.dumps(anns).encode()
    got = parse_annotations_json(data)
    assert_ann_same(got, ann_reference(anns))
    assert got["iscrowd"].tolist() == [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    # empty list, whitespace, BOM
    got = parse_annotations_json(b" [ ] ")
    assert all(len(got[k]) == 0 for k in ANN_KEYS) and got["bbox"].shape == (0, 4)
    assert_ann_same(parse_annotations_json(("\ufeff[" + ANN + "]").encode()),
                    ann_reference(json.loads("[" + ANN + "]")))
    # NaN / Infinity are returned as such
    data = b'[{"id": 1, "image_id": 2, "category_id": 3, "bbox": [NaN, Infinity, -Infinity, 1], "area": NaN}]'
    got = parse_annotations_json(data)
    assert np.isnan(got["bbox"][0, 0]) and got["bbox"][0, 1] == np.inf and got["bbox"][0, 2] == -np.inf
    assert np.isnan(got["area"][0])
    # escaped known keys and duplicates: the last wins
    data = ('[{"\\u0069d": 5, "image_id": 1, "image_id": 9, "category_id": 3, "bbox": [0,0,1,1], '
            '"b\\u0062ox": [1,2,3,4], "area": 1, "iscrowd": 1, "iscrowd": 0, "ar\\u0065a": 2}]').encode()
    assert_ann_same(parse_annotations_json(data), ann_reference(json.loads(data)))


def ann_err(data, start=0, end=None):
    if isinstance(data, str):
        data = data.encode()
    with pytest.raises(ValueError) as ei:
        parse_annotations_json(data, start, end)
    return str(ei.value), ei.value


def test_gt_error_missing_fields():
    for field in ("id", "image_id", "category_id", "bbox", "area"):
        a = ann()
        del a[field]
        data = json.dumps([ann()] * 17 + [a, ann()])
        msg, e = ann_err(data)
        assert msg.startswith("annotations: record 17, field '%s': missing field '%s' (byte " % (field, field)), msg
        assert isinstance(e, ResultsJSONError) and e.record == 17 and e.field == field
        assert e.reason == "missing field '%s'" % field
        # byte: the start of the record
        assert data[e.offset] == "{" and e.offset == len("[") + 17 * len(json.dumps(ann()) + ", ")
    msg, _ = ann_err("[{}]")
    assert "record 0" in msg and "missing field 'id'" in msg
    # iscrowd may be absent, not null
    msg, _ = ann_err(json.dumps([ann(iscrowd=None)]))
    assert "field 'iscrowd'" in msg and "got null" in msg
    msg, _ = ann_err(json.dumps([ann(area=None)]))
    assert "field 'area'" in msg and "expected a number, got null" in msg


def test_gt_error_values():
    cases = [
        (ann(bbox=[1, 2, 3]), "bbox", "bbox must have 4 numbers, got 3"),
        (ann(bbox=[1, 2, 3, 4, 5]), "bbox", "bbox must have 4 numbers, got 5"),
        (ann(bbox={"x": 1}), "bbox", "bbox must be an array of 4 numbers, got object"),
        (ann(image_id="12"), "image_id", "expected an integer, got string"),
        (ann(id=1.5), "id", "id must be an integer, got 1.5"),
        (ann(category_id=True), "category_id", "got boolean"),
        (ann(id=2 ** 63), "id", "id is outside the int64 range"),
        (ann(area="1"), "area", "expected a number, got string"),
        (ann(iscrowd=2), "iscrowd", "iscrowd must be 0 or 1 (or a boolean), got 2"),
        (ann(iscrowd=-1), "iscrowd", "iscrowd must be 0 or 1 (or a boolean), got -1"),
        (ann(iscrowd=0.5), "iscrowd", "got 0.5"),
        (ann(iscrowd="1"), "iscrowd", "expected 0, 1, true or false, got string"),
        (ann(iscrowd=[1]), "iscrowd", "got array"),
    ]
    for a, field, text in cases:
        data = json.dumps([ann(), ann(), a])
        msg, e = ann_err(data)
        assert "record 2" in msg and ("field '%s'" % field) in msg and text in msg, msg
        assert e.record == 2 and e.field == field
    msg, _ = ann_err('[{"id": 1, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 1, "iscrowd": 12}]')
    assert "got 12" in msg
    msg, _ = ann_err('[{"id": 1, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 1, "iscrowd": NaN}]')
    assert "got NaN" in msg
    # not an array of objects
    msg, _ = ann_err(ANN)
    assert "annotations must be a JSON array of objects, got object" in msg
    msg, _ = ann_err("[1]")
    assert "record 0" in msg and "expected an object (record), got number" in msg


def test_gt_error_syntax_in_skipped_values():
    for bad, text in (('[[1, 2], [3 4]]', "expected ',' or ']'"),
                      ('{"counts": "a\\qb"}', "invalid escape"),
                      ('{"counts": "a\\u12x4"}', "invalid \\uXXXX escape"),
                      ('"a\tb"', "invalid control character"),
                      ('[1, 2,]', "expected a value, got ']'"),
                      ('{"size": [1, 2] "counts": ""}', "expected ',' or '}'"),
                      ('[01]', "expected ',' or ']'"),
                      ('[1.]', "invalid number"),
                      ('[-]', "invalid number"),
                      ('[1e5, 2E-3, 4e]', "invalid number"),
                      ('nul', "invalid literal")):
        data = '[%s, {"segmentation": %s, %s' % (ANN, bad, ANN[1:]) + "]"
        msg, e = ann_err(data)
        assert "record 1" in msg and "field 'segmentation'" in msg and text in msg, (bad, msg)
        with pytest.raises(ValueError):
            json.loads(data)


def test_gt_error_offsets_are_absolute():
    d = rich_dataset(3)
    d["annotations"][5]["bbox"] = [1, 2, 3]
    data = json.dumps(d).encode()
    s, e = {k: (s, e) for k, s, e in json_object_members(data)}["annotations"]
    msg, err = ann_err(data, s, e)
    assert "annotations: record 5, field 'bbox': bbox must have 4 numbers, got 3" in msg
    assert data[err.offset:err.offset + 9] == b"[1, 2, 3]"
    assert msg.endswith("(byte %d)" % err.offset)
    _, err2 = ann_err(data[s:e])
    assert err2.offset == err.offset - s


def members_err(data):
    if isinstance(data, str):
        data = data.encode()
    with pytest.raises(ValueError) as ei:
        json_object_members(data)
    return str(ei.value), ei.value


def test_gt_error_members():
    msg, e = members_err(b"[1, 2]")
    assert "expected a JSON object at the top level, got array" in msg and e.offset == 0
    assert isinstance(e, ResultsJSONError)
    for doc, got in ((b"3", "number"), (b'"x"', "string"), (b"null", "null"), (b"  true", "boolean")):
        msg, _ = members_err(doc)
        assert "expected a JSON object" in msg and ("got " + got) in msg
    msg, _ = members_err(b"")
    assert "unexpected end of file" in msg
    d = rich_dataset(4)
    data = json.dumps(d, indent=2).encode()
    # truncated anywhere: rejected (spot checks; the small documents below check every prefix)
    for k in list(range(0, len(data), max(1, len(data) // 97))) + [len(data) - 1]:
        msg, e = members_err(data[:k])
        with pytest.raises(ValueError):
            json.loads(data[:k])
    msg, e = members_err(data[:-1])
    assert "unexpected end of file" in msg and e.offset == len(data) - 1
    # trailing garbage
    for tail in (b"x", b"}", b",", b"{}", b"[]", b"\x00"):
        msg, e = members_err(data + b" " + tail)
        assert "unexpected data after the closing '}'" in msg and e.offset == len(data) + 1
        with pytest.raises(ValueError):
            json.loads(data + b" " + tail)
    # a malformed value anywhere: the member is named, the offset given
    bad = data.replace(b'"area": ', b'"area": -', 1).replace(b'"area": -', b'"area": --', 1)
    msg, e = members_err(bad)
    assert "field 'annotations'" in msg and "invalid number" in msg
    assert bad[e.offset:e.offset + 2] == b"--" and msg.endswith("(byte %d)" % e.offset)
    for doc, text in ((b'{"a" 1}', "expected ':'"), (b'{"a": 1,}', "expected a string (object key)"),
                      (b'{1: 2}', "expected a string (object key)"), (b'{"a": 1 "b": 2}', "expected ',' or '}'"),
                      (b'{"a": [1, 2}', "expected ',' or ']'"), (b'{"a": "\xff"}', "invalid UTF-8"),
                      (b'{"a\tb": 1}', "invalid control character"), (b'{"a": tru}', "invalid literal")):
        msg, _ = members_err(doc)
        assert text in msg, (doc, msg)
        with pytest.raises(ValueError):
            json.loads(doc)


_SMALL_GT = json.dumps({"info": {"v": [1.5, None]},
                        "images": [{"id": 1, "file_name": "caf\u00e9.jpg"}],
                        "annotations": [ann(segmentation={"counts": 'a\\"b', "size": [2, 2]}),
                                        ann(id=2, iscrowd=True, keypoints=[1, 2, 2])],
                        "categories": [{"id": 3, "name": "x"}]}).encode()


def test_member_spans_equal_the_validated_members():
    """json_member_spans (brackets and strings only) finds the members json_object_members
    finds in valid documents: escaped quotes and backslashes, brackets and quotes inside
    strings, strings across the 64-byte blocks, nesting, whitespace, real files."""
    docs = [b"{}", b' \n{ } ', b'{"a": 1, "b" : [1, {"c": "}"}] ,"a":"x\\"y", "":null, "k\\u00e9y\\n": {}}',
            json.dumps(rich_dataset(3)).encode(), json.dumps(rich_dataset(5), indent=3).encode(),
            _SMALL_GT, b'\xef\xbb\xbf{"a": [true, false, null, -1.5e3, "\\\\", "\\\""]}']
    rng = np.random.default_rng(4)
    pieces = ['"', '\\"', "\\\\", "[", "]", "{", "}", "x", " ", "\\n", "\u00e9", ",", ":"]
    for i in range(300):
        # strings of every length (so that escapes fall on block edges) full of brackets
        text = "".join(rng.choice(pieces, int(rng.integers(0, 150))).tolist())
        obj = {"pad%d" % i: "p" * int(rng.integers(0, 70)), "s": text,
               "nested": [[{"t": text[: int(rng.integers(0, len(text) + 1))]}], text[::-1]],
               "n": float(rng.normal()), "last": [text] * int(rng.integers(0, 3))}
        docs.append(json.dumps(obj, ensure_ascii=bool(i % 2), indent=None if i % 3 else 1).encode())
    for path in REAL_GT_FILES:
        with open(path, "rb") as f:
            data = f.read()
        if isinstance(json.loads(data), dict):
            docs.append(data)
    for data in docs:
        assert json_member_spans(data) == json_object_members(data), data[:200]
    for bad in (b"", b"[1]", b"3", b'{"a" 1}', b'{"a": [1, 2}', b'{"a": "x', b'{"a": 1,}x', b'{"a": }'):
        r = json_member_spans(bad)
        assert r is None or all(0 <= s <= e <= len(bad) for _, s, e in r)


def test_gt_keypoints_read_during_the_scan():
    """parse_annotations_json(kpt_stride=...) reads the keypoints as it meets them:
    equal to parse_keypoint_spans bit for bit; a record without keypoints, with more or
    fewer numbers, or with a value that is not a flat array of numbers is marked in
    kpt_count (and still spanned), and the scan goes on as json.loads would."""
    from fastap._core import parse_keypoint_spans
    ds, _ = make_keypoints_coco(5, n_images=30)
    anns = ds["annotations"]
    anns[1]["keypoints"] = anns[1]["keypoints"][:-3]
    anns[2]["keypoints"] = anns[2]["keypoints"] + [1.5, 2.5, 2]
    anns[3]["keypoints"] = [[1, 2, 2]] * 17
    anns[4]["keypoints"] = ["x"] * 51
    del anns[5]["keypoints"]
    anns[6]["keypoints"] = [1e300, -0.0, 2, 3.25e-5] + anns[6]["keypoints"][4:]
    data = json.dumps(ds).encode()
    s, e = {k: (s, e) for k, s, e in json_object_members(data)}["annotations"]
    g = parse_annotations_json(data, s, e, geometry=True, kpt_stride=51)
    plain = parse_annotations_json(data, s, e, geometry=True)
    assert_ann_same({k: g[k] for k in ANN_KEYS}, ann_reference(anns))
    assert np.array_equal(g["kpt_span"], plain["kpt_span"])
    want = {1: 48, 2: 52, 3: -2, 4: -2, 5: -1}
    for i in range(len(anns)):
        assert g["kpt_count"][i] == want.get(i, 51), i
        if i not in want:
            assert np.array_equal(g["kpt_values"][i].view(np.uint64),
                                  np.array(anns[i]["keypoints"], np.float64).view(np.uint64))
    ok = [i for i in range(len(anns)) if i not in want]
    ref = parse_keypoint_spans(data, g["kpt_span"][ok], 51)
    assert np.array_equal(ref.view(np.uint64), g["kpt_values"][ok].view(np.uint64))


def test_gt_every_prefix_is_rejected():
    data = _SMALL_GT
    check_gt(data)
    s, e = {k: (s, e) for k, s, e in json_object_members(data)}["annotations"]
    for k in range(len(data)):
        with pytest.raises(ValueError):
            json_object_members(data[:k])
    for k in range(s, e):
        with pytest.raises(ValueError):
            parse_annotations_json(data, s, k)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_SMALL_GT) - 1),
                          st.sampled_from(list(b' \t\n",:[]{}0123456789.-+eEaxnNI\\u\x00\xc3\xff')),
                          st.sampled_from(["replace", "insert", "delete"])),
                min_size=1, max_size=3))
def test_gt_mutations_agree_with_json(muts):
    """Whatever the members scan accepts, json.loads accepts (with those spans), and the
    other way round; the annotations parse agrees with the reference where json does."""
    b = bytearray(_SMALL_GT)
    for pos, ch, op in muts:
        pos = min(pos, len(b) - 1) if b else 0
        if op == "replace" and b:
            b[pos] = ch
        elif op == "insert":
            b[pos:pos] = bytes([ch])
        elif b:
            del b[pos]
    data = bytes(b)
    try:
        ref = json.loads(data)
    except (ValueError, RecursionError):
        ref = None
    fast = json_member_spans(data)       # never fails, whatever the text
    assert fast is None or all(0 <= s <= e <= len(data) for _, s, e in fast)
    try:
        members = json_object_members(data)
    except NotImplementedError:
        return
    except ValueError:
        assert ref is None or not isinstance(ref, dict), data
        return
    assert fast == members              # a valid document: the same spans
    assert isinstance(ref, dict)
    spans = {}
    for k, s, e in members:
        spans[k] = (s, e)
    assert list(spans) == list(ref)
    for k, (s, e) in spans.items():
        assert json.loads(data[s:e]) == ref[k] or ref[k] != ref[k]
    if "annotations" not in spans:
        return
    s, e = spans["annotations"]
    try:
        want = ann_reference(ref["annotations"])
    except (AssertionError, KeyError, TypeError, ValueError, OverflowError, AttributeError):
        with pytest.raises(ValueError):
            parse_annotations_json(data, s, e)
        return
    assert_ann_same(parse_annotations_json(data, s, e), want)


def test_gt_threads_give_the_same_result():
    data = json.dumps(rich_dataset(5)).encode()
    s, e = {k: (s, e) for k, s, e in json_object_members(data)}["annotations"]
    want = parse_annotations_json(data, s, e)
    out = [None] * 8

    def work(i):
        m = json_object_members(data)
        s, e = {k: (s, e) for k, s, e in m}["annotations"]
        out[i] = parse_annotations_json(data, s, e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        assert_ann_same(o, want)


def _objects365_gt():
    """The Objects365-scale synthetic gt.json (~40 MB, 300k annotations), generated once
    (~10 s) and kept in the temporary directory."""
    d = os.path.join(tempfile.gettempdir(), "fastap_objects365_gt_seed0")
    path = os.path.join(d, "gt.json")
    if not os.path.exists(path):
        dataset, results = make_coco(scale="objects365")
        del results
        os.makedirs(d, exist_ok=True)
        tmp = path + ".%d.tmp" % os.getpid()
        with open(tmp, "w") as f:
            json.dump(dataset, f)
        os.replace(tmp, path)
    with open(path, "rb") as f:
        return f.read()


def test_gt_objects365_scale():
    data = _objects365_gt()

    def best(f, k):
        ts = []
        for _ in range(k):
            t = time.perf_counter()
            out = f()
            ts.append(time.perf_counter() - t)
        return min(ts), out

    def fast():
        members = json_object_members(data)
        spans = {k: (s, e) for k, s, e in members}
        rest = {k: json.loads(data[s:e]) for k, (s, e) in spans.items() if k != "annotations"}
        s, e = spans["annotations"]
        return rest, parse_annotations_json(data, s, e)

    t_members, _ = best(lambda: json_object_members(data), 5)
    s, e = {k: (s, e) for k, s, e in json_object_members(data)}["annotations"]
    t_ann, got = best(lambda: parse_annotations_json(data, s, e), 5)
    t_all, (rest, _) = best(fast, 3)
    t_json, ref = best(lambda: json.loads(data), 1)
    assert_ann_same(got, ann_reference(ref["annotations"]))
    assert rest == {k: v for k, v in ref.items() if k != "annotations"}
    msg = ("\nObjects365-scale gt.json (%.1f MB, %d annotations): members %.1f ms + "
           "annotations %.1f ms = %.1f ms; with images/categories via json.loads %.1f ms; "
           "json.loads %.0f ms" % (len(data) / 1e6, len(got["id"]), t_members * 1e3,
                                    t_ann * 1e3, (t_members + t_ann) * 1e3, t_all * 1e3,
                                    t_json * 1e3))
    del ref
    try:
        import orjson
        t_or, ref = best(lambda: orjson.loads(data), 3)
        del ref
        msg += ", orjson.loads %.0f ms (%.1fx)" % (t_or * 1e3, t_or / (t_members + t_ann))
    except ImportError:
        pass
    print(msg)
    assert len(got["id"]) > 250_000


# ----------------------------------------------------------------------------------
# arrays of plain numbers read 64 bytes at a time (AVX-512BW where the CPU has it):
# the same values, errors and positions as the scalar loop
# ----------------------------------------------------------------------------------

from fastap._core import _simd_numbers  # noqa: E402

HAS_SIMD = _simd_numbers()


def both_number_paths(f, *a, **kw):
    """Outcomes of f(...) with the 64-byte number reader off, then on (where the CPU has
    it): ("ok", result) or ("error", type, message). The setting is restored."""
    was = int(_simd_numbers())
    out = []
    try:
        for on in (0, 1):
            _simd_numbers(on)
            try:
                out.append(("ok", f(*a, **kw)))
            except (ValueError, NotImplementedError) as e:
                out.append(("error", type(e), str(e)))
    finally:
        _simd_numbers(was)
    return out


def _same_outcomes(a, b, kpt_xy=False):
    assert a[0] == b[0], (a[1:], b[1:])
    if a[0] == "error":
        assert a[1:] == b[1:]
    else:
        _assert_same_columns(b[1], a[1], kpt_xy)


plain_number = st.builds(
    lambda sign, i, f: sign + i + f,
    st.sampled_from(["", "", "-"]),
    st.one_of(st.just("0"), st.builds(lambda a, b: a + b, st.sampled_from("123456789"),
                                      st.text("0123456789", max_size=8))),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=8).map(lambda t: "." + t)))
any_number = st.one_of(plain_number, plain_number, plain_number, number_text)
separator = st.sampled_from([", ", ", ", ",", " , ", ",\n", ",\n  ", ",\t", ",\r\n"])


@settings(max_examples=400, deadline=None)
@given(st.lists(any_number, min_size=0, max_size=120), separator, st.sampled_from(["", " ", "\n"]),
       st.integers(0, 3), st.booleans())
def test_number_arrays_both_paths(toks, sep, pad, stride_k, xy):
    """Keypoint arrays of plain and other numbers, any separators: the values equal
    json.loads' bit for bit on both paths, and both paths give the same columns."""
    arr = "[" + pad + sep.join(toks) + pad + "]"
    rec = '{"image_id": 1, "category_id": 2, "keypoints": %s, "score": 0.5}' % arr
    data = ("[" + ", ".join([rec] * 3) + "]").encode()
    stride = 3 * stride_k + 3 * (len(toks) // 3) if stride_k else max(len(toks), 3)
    stride = stride - stride % 3 if xy else stride
    a, b = both_number_paths(parse_results_json, data, geometry=True, kpt_stride=stride,
                             kpt_xy=xy, num_threads=1)
    _same_outcomes(a, b, xy)
    assert a[0] == "ok"
    want = np.array([pyfloat(t) for t in toks], dtype=np.float64)[:stride]
    if xy:
        want = want[np.arange(want.shape[0]) % 3 != 2]
    got = a[1]["kpt_values"][0][:want.shape[0]]
    assert np.array_equal(bits(got), bits(want))
    spans = a[1]["kpt_span"]
    if len(toks) == stride:      # the span reader (fa_json_number_array) as well
        a2, b2 = both_number_paths(fastap_parse_spans, data, spans, stride)
        assert a2[0] == b2[0] == "ok" and np.array_equal(bits(a2[1]), bits(b2[1]))
        assert np.array_equal(bits(a2[1][0]), bits(np.array([pyfloat(t) for t in toks])))


def fastap_parse_spans(data, spans, n):
    from fastap._core import parse_keypoint_spans
    return parse_keypoint_spans(data, spans, n, "keypoints")


def test_number_arrays_digit_count_boundaries():
    """Every split of up to 12 digits between the integer and the fraction part (the
    reader converts up to 8 at once and leaves longer numbers to the scalar loop), with
    signs, zeros and "-0": equal to json.loads' on both paths."""
    toks = []
    for nd in range(1, 10):
        for fd in range(0, 10):
            for sign in ("", "-"):
                i = "0" if nd == 1 and fd % 2 else "987654321"[:nd]
                toks.append(sign + i + ("." + "123456789"[:fd] if fd else ""))
    toks += ["-0", "0", "-0.0", "0.0", "10", "-10.5"]
    # each in its own array, after plain numbers (the scalar loop takes the rest of an
    # array from the first number the reader leaves to it)
    fill = ["12.5", "-3", "0.25", "640", "7.125"] * 2
    want = np.array([[pyfloat(t) for t in fill + [tok] + fill] for tok in toks])
    for sep in (", ", ","):
        recs = ['{"image_id": 1, "category_id": 2, "keypoints": [%s], "score": 1}' % sep.join(fill + [t] + fill)
                for t in toks]
        data = ("[" + ", ".join(recs) + "]").encode()
        a, b = both_number_paths(parse_results_json, data, geometry=True, kpt_stride=21, num_threads=1)
        _same_outcomes(a, b)
        assert np.array_equal(bits(a[1]["kpt_values"]), bits(want))


def test_number_arrays_mutations_both_paths():
    """Every kind of damage inside keypoint arrays (a byte changed, removed or doubled,
    at many places) gives the same columns or the same error, at the same byte, with the
    64-byte reader as without."""
    _, res = make_keypoints_coco(5, n_images=4)
    text = json.dumps(res[:6])
    rng = np.random.default_rng(11)
    starts = [i for i in range(len(text)) if text.startswith('"keypoints": [', i)]
    alphabet = list('0123456789.-+eE, \n\t]["aN}') + ["", "Infinity", "NaN", "1e5", "00", "-0", "0.0"]
    n = 0
    for _ in range(600):
        s = starts[rng.integers(len(starts))] + 14
        i = min(s + int(rng.integers(0, 420)), len(text) - 1)
        op = rng.integers(3)
        rep = alphabet[rng.integers(len(alphabet))]
        if op == 0:
            t = text[:i] + rep + text[i + 1:]
        elif op == 1:
            t = text[:i] + text[i + 1:]
        else:
            t = text[:i] + text[i] + text[i:]
        xy = bool(rng.integers(2))
        a, b = both_number_paths(parse_results_json, t.encode(), geometry=True, kpt_stride=51,
                                 kpt_xy=xy, num_threads=1)
        _same_outcomes(a, b, xy)
        n += a[0] == "error"
    assert n > 100           # the damage did reach the readers


def test_number_arrays_near_the_end_of_the_buffer():
    """The 64-byte reader needs 80 bytes ahead: arrays ending at every distance from the
    end of the text are read alike."""
    toks = ["%d.%02d" % (i * 7 % 640, i % 100) for i in range(60)]
    for cut in range(0, 200, 7):
        arr = "[" + ", ".join(toks[:max(1, cut // 4)]) + "]"
        data = ('[{"image_id": 1, "category_id": 2, "score": 1, "keypoints": %s}]' % arr).encode()
        k = len(toks[:max(1, cut // 4)])
        a, b = both_number_paths(parse_results_json, data, geometry=True, kpt_stride=k, num_threads=1)
        _same_outcomes(a, b)
        assert np.array_equal(bits(a[1]["kpt_values"][0]), bits(np.array([float(t) for t in toks[:k]])))


@pytest.mark.skipif(not HAS_SIMD, reason="the CPU has no AVX-512BW: only the scalar loop runs "
                    "(both_number_paths compares it with itself)")
def test_number_reader_is_on_where_the_cpu_has_it():
    assert _simd_numbers() is True
    assert _simd_numbers(0) is False
    assert _simd_numbers(1) is True
