"""fastap._core.parse_results_json: the C scanner for COCO results files.

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
from fastap.synthetic import make_coco

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
