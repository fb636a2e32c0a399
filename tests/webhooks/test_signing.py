import hashlib
import hmac

from webhooks import transport as webhooks

SECRET = "s3cret-for-tests"
BODY = b'{"id":"e1","type":"job.finished"}'


def test_the_header_is_an_hmac_sha256_over_timestamp_dot_body():
    header = webhooks.signature_header(SECRET, BODY, timestamp=1700000000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_a_fresh_genuine_signature():
    header = webhooks.signature_header(SECRET, BODY, timestamp=1700000000)
    assert webhooks.signature_verify(SECRET, header, BODY, now=1700000010)


def test_a_tampered_body_a_wrong_secret_or_a_stale_timestamp_is_rejected():
    header = webhooks.signature_header(SECRET, BODY, timestamp=1700000000)
    assert not webhooks.signature_verify(SECRET, header, BODY + b" ", now=1700000010)
    assert not webhooks.signature_verify("other", header, BODY, now=1700000010)
    assert not webhooks.signature_verify(SECRET, header, BODY, now=1700000000 + 301)
    assert not webhooks.signature_verify(SECRET, "garbage", BODY, now=1700000000)


def test_the_body_is_canonical_json():
    assert webhooks.canonical_body({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
