"""Each recognizer on positive strings (several formats) and negative strings (near misses, hard negatives)."""

from __future__ import annotations

import base64
import json

import pytest


def _jwt(header: dict) -> str:
    enc = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc(header)}.{enc({'sub': '1234567890', 'iat': 1516239022})}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\nlWu2/a1gB9JW5TBQ+AVpum9Okx7KfqkfBKL9mcHgSL0yWMdjMfNOqNtrQqKlN4kE\n-----END RSA PRIVATE KEY-----"
KEY40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AZ = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

POSITIVE = [
    ("write to jane.doe@example.com today", [("EMAIL", "jane.doe@example.com")]),
    ("mail: j_smith+news@mail.acme-corp.io", [("EMAIL", "j_smith+news@mail.acme-corp.io")]),
    ("call me at (212) 555-0147 tonight", [("PHONE_NUMBER", "(212) 555-0147")]),
    ("uk office +44 20 7946 0958", [("PHONE_NUMBER", "+44 20 7946 0958")]),
    ("berlin: +49 30 1234567", [("PHONE_NUMBER", "+49 30 1234567")]),
    ("card 4111 1111 1111 1111 expired", [("CREDIT_CARD", "4111 1111 1111 1111")]),
    ("amex 378282246310005", [("CREDIT_CARD", "378282246310005")]),
    ("card 5555-5555-5555-4444", [("CREDIT_CARD", "5555-5555-5555-4444")]),
    ("IBAN DE89370400440532013000 please", [("IBAN", "DE89370400440532013000")]),
    ("to GB82 WEST 1234 5698 7654 32", [("IBAN", "GB82 WEST 1234 5698 7654 32")]),
    ("host 203.0.113.7 is down", [("IP_ADDRESS", "203.0.113.7")]),
    ("ipv6 2001:db8:85a3::8a2e:370:7334 ok", [("IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334")]),
    ("my ssn is 536-22-8726", [("US_SSN", "536-22-8726")]),
    ("ssn 536228726", [("US_SSN", "536228726")]),
    ("btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa thanks", [("CRYPTO", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")]),
    ("wallet bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", [("CRYPTO", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]),
    ("postgres://app:s3cr3t-Pw@db.internal:5432/x", [("URL_CREDENTIALS", "app:s3cr3t-Pw")]),
    ("Server=db;User Id=sa;Password=Xy7!kq2#Lm;Encrypt=True", [("PASSWORD", "Xy7!kq2#Lm")]),
    ("DB_PASSWORD=hunter2Secret", [("PASSWORD", "hunter2Secret")]),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", [("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE")]),
    (f"aws_secret_access_key = {KEY40}", [("AWS_SECRET_KEY", KEY40)]),
    ("key AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", [("GCP_API_KEY", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")]),
    (f"AccountName=x;AccountKey={AZ};EndpointSuffix=core.windows.net", [("AZURE_KEY", AZ)]),
    ("token ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r", [("GITHUB_TOKEN", "ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r")]),
    ("PRIVATE-TOKEN: glpat-Ab3dEf6hIj9kLm2nOp5q", [("GITLAB_TOKEN", "glpat-Ab3dEf6hIj9kLm2nOp5q")]),
    ("SLACK=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx", [("SLACK_TOKEN", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx")]),
    ("OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56", [("API_KEY", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56")]),
    ("stripe sk_live_51HqLyjWDarjtT1zdp7dcXYZ", [("API_KEY", "sk_live_51HqLyjWDarjtT1zdp7dcXYZ")]),
    (f"Bearer {_jwt({'alg': 'HS256', 'typ': 'JWT'})}", [("JWT", _jwt({"alg": "HS256", "typ": "JWT"}))]),
    (f"key:\n{PEM}\nend", [("PRIVATE_KEY", PEM)]),
    ('{"private_key": "' + PEM.replace("\n", "\\n") + '"}', [("PRIVATE_KEY", PEM.replace("\n", "\\n"))]),
]

NEGATIVE = [
    "card 4111 1111 1111 1112 (bad Luhn)",
    "IBAN DE89370400440532013001 (bad checksum)",
    "btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb (bad checksum)",
    "user@localhost has no domain",
    "loopback 127.0.0.1 and 0.0.0.0:8080",
    "upgrading from 4.1.12.1 fixed it",
    "colour #333333 and #ff5733",
    "commit 0489799 broke it",
    "use an sk-learn-compatible-estimator-interface here",
    "connect(user=u, password=None)",
    "password=${DB_PASS}",
    "postgres://user:${PW}@host/db",
    "lower case akiaiosfodnn7example is not a key id",
    "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.bad (header is not JSON)",
    "released v2.14.3 on 2024-03-15 at 14:30:05",
    "request 123e4567-e89b-12d3-a456-426614174000",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "listening on localhost:8080 and port 27017",
    "it costs $1,299.99 or €45.00",
    "fixed in PR #12345 and issue #4821",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
]


@pytest.mark.parametrize("text,expected", POSITIVE, ids=[e[0][0] + ":" + str(i) for i, (_, e) in enumerate(POSITIVE)])
def test_positive(find, text, expected):
    assert find(text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_negative(find, text):
    assert find(text) == []


def test_secret_wins_over_email_artefact(find):
    text = "git clone https://ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r@github.com/o/r.git"
    assert find(text) == [("GITHUB_TOKEN", "ghp_1A2b3C4d5E6f7G8h9I0j1K2l3M4n5O6p7Q8r")]


def test_context_word_lifts_weak_ssn(find):
    # a bare 9-digit number scores 0.05; the context word "ssn" lifts it over the 0.4 threshold
    assert find("order number 536228726") == []
    assert find("ssn 536228726") == [("US_SSN", "536228726")]


def test_phone_inside_uuid_is_not_a_phone(find):
    assert find("run 7596a0fe-0664-4225-b17c-5933f114640d failed") == []
