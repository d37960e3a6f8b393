"""Labelled PII evaluation set and speed corpus for bench/pii_bench.py (deterministic, seeded).

Every value is synthetic and generated here: PII of each supported type in several formats (valid
checksums where the type has one, so a correct detector *should* find it), planted in real-looking
carrier text of chat fine-tuning data, next to hard negatives that look like PII but are not
(versions, dates, times, UUIDs, git hashes, hex colours, ports, prices, issue numbers).

    python bench/pii_data.py --out bench/data/pii_eval.jsonl --conversations 1500
Each JSONL line: {"messages": [{"role", "content"}], "labels": [[msg, start, end, TYPE]],
"negatives": [[msg, start, end, CATEGORY]]}.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import string
import uuid

import phonenumbers

ALNUM = string.ascii_letters + string.digits
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
FIRST = ["maria", "john", "wei", "aisha", "lukas", "sofia", "raj", "emma", "kenji", "olga", "diego", "fatima"]
LAST = ["garcia", "smith", "zhang", "khan", "muller", "rossi", "patel", "jones", "tanaka", "ivanova", "lopez"]
DOMAINS = ["example.com", "mail.acme-corp.io", "university.edu", "company.co.uk", "startup.dev", "gmail.com"]


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + _rand(rng, string.digits, length - len(prefix) - 1)
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _b58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _bech32(hrp: str, data5: list[int]) -> str:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]

    def polymod(values):
        chk = 1
        for v in values:
            top = chk >> 25
            chk = (chk & 0x1FFFFFF) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if (top >> i) & 1 else 0
        return chk

    expanded = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    mod = polymod(expanded + data5 + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(charset[d] for d in data5 + checksum)


def _phone(rng: random.Random) -> str:
    while True:
        region, fmt, number = rng.choice(
            [
                ("US", phonenumbers.PhoneNumberFormat.NATIONAL, f"2{rng.randint(10, 99)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"),
                ("US", phonenumbers.PhoneNumberFormat.INTERNATIONAL, f"4{rng.randint(10, 99)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"),
                ("GB", phonenumbers.PhoneNumberFormat.INTERNATIONAL, f"20{rng.randint(7000, 8999)}{rng.randint(1000, 9999)}"),
                ("GB", phonenumbers.PhoneNumberFormat.NATIONAL, f"7{rng.randint(400, 999)}{rng.randint(100000, 999999)}"),
                ("DE", phonenumbers.PhoneNumberFormat.INTERNATIONAL, f"30{rng.randint(1000000, 99999999)}"),
                ("FR", phonenumbers.PhoneNumberFormat.INTERNATIONAL, f"6{rng.randint(10000000, 99999999)}"),
                ("IN", phonenumbers.PhoneNumberFormat.INTERNATIONAL, f"9{rng.randint(100000000, 999999999)}"),
                ("US", phonenumbers.PhoneNumberFormat.E164, f"3{rng.randint(10, 99)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"),
            ]
        )
        parsed = phonenumbers.parse(number, region)
        if phonenumbers.is_valid_number(parsed):
            text = phonenumbers.format_number(parsed, fmt)
            return text.replace(" ", "-") if region == "US" and rng.random() < 0.3 and fmt != 2 else text


def _jwt(rng: random.Random) -> str:
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    payload = {"sub": str(rng.randint(1000, 99999)), "name": rng.choice(FIRST), "iat": rng.randint(1.6e9, 1.8e9)}
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(payload)}.{_rand(rng, ALNUM + '-_', 43)}"


def _pem(rng: random.Random, escaped: bool) -> str:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    body = [base64.b64encode(rng.randbytes(48)).decode() for _ in range(rng.randint(3, 8))]
    nl = "\\n" if escaped else "\n"
    return nl.join([f"-----BEGIN {kind}PRIVATE KEY-----", *body, f"-----END {kind}PRIVATE KEY-----"])


def generate_value(kind: str, rng: random.Random) -> str:
    """One synthetic value of an entity type, in one of its common formats."""
    f, l = rng.choice(FIRST), rng.choice(LAST)
    if kind == "EMAIL":
        local = rng.choice([f"{f}.{l}", f"{f}_{l}{rng.randint(1, 99)}", f"{f[0]}{l}+news", f"{l}.{f}"])
        return f"{local}@{rng.choice(DOMAINS)}"
    if kind == "PHONE_NUMBER":
        return _phone(rng)
    if kind == "CREDIT_CARD":
        prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("6011", 16), ("37", 15), ("34", 15)])
        card = _luhn_complete(prefix, length, rng)
        sep = rng.choice(["", " ", "-"])
        groups = [card[:4], card[4:8], card[8:12], card[12:]] if length == 16 else [card[:4], card[4:10], card[10:]]
        return sep.join(groups)
    if kind == "IBAN":
        country, bban = rng.choice([("DE", _rand(rng, string.digits, 18)), ("GB", "NWBK" + _rand(rng, string.digits, 14)), ("FR", _rand(rng, string.digits, 23)), ("NL", "ABNA" + _rand(rng, string.digits, 10))])
        iban = _iban(country, bban)
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban
    if kind == "IP_ADDRESS":
        if rng.random() < 0.6:
            return ".".join([str(rng.choice([rng.randint(1, 126), rng.randint(128, 223)]))] + [str(rng.randint(0, 254)) for _ in range(3)])
        groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
        return "2001:db8::" + ":".join(groups[:3]) if rng.random() < 0.5 else ":".join(groups)
    if kind == "US_SSN":
        area, group, serial = rng.randint(100, 665), rng.randint(10, 99), rng.randint(1000, 9999)
        return rng.choice([f"{area}-{group}-{serial}", f"{area} {group} {serial}"])
    if kind == "CRYPTO":
        if rng.random() < 0.5:
            return _b58check(rng.choice([b"\x00", b"\x05"]) + rng.randbytes(20))
        return _bech32("bc", [0] + [rng.randint(0, 31) for _ in range(32)])
    if kind == "URL_CREDENTIALS":
        scheme, host = rng.choice([("postgres", "db.internal:5432/app"), ("mongodb+srv", "cluster0.ab1cd.mongodb.net/prod"), ("redis", "cache.local:6379/0"), ("https", "git.example.com/team/repo.git")])
        return f"{scheme}://{f}:{_rand(rng, ALNUM + '!#', 12)}@{host}"
    if kind == "PASSWORD":
        return _rand(rng, ALNUM, 6) + rng.choice(["!", "#", "9", "%"]) + _rand(rng, ALNUM, 5)
    if kind == "AWS_ACCESS_KEY":
        return rng.choice(["AKIA", "ASIA"]) + _rand(rng, string.ascii_uppercase + string.digits, 16)
    if kind == "AWS_SECRET_KEY":
        return _rand(rng, ALNUM + "/+", 40)
    if kind == "GCP_API_KEY":
        return "AIza" + _rand(rng, ALNUM + "-_", 35) if rng.random() < 0.7 else "GOCSPX-" + _rand(rng, ALNUM + "-_", 28)
    if kind == "AZURE_KEY":
        return _rand(rng, ALNUM + "+/", 86) + "=="
    if kind == "GITHUB_TOKEN":
        if rng.random() < 0.7:
            return rng.choice(["ghp_", "gho_", "ghs_"]) + _rand(rng, ALNUM, 36)
        return "github_pat_" + _rand(rng, ALNUM, 22) + "_" + _rand(rng, ALNUM, 59)
    if kind == "GITLAB_TOKEN":
        return "glpat-" + _rand(rng, ALNUM + "-_", 20)
    if kind == "SLACK_TOKEN":
        return f"xox{rng.choice('bpa')}-{rng.randint(10**10, 10**12)}-{rng.randint(10**10, 10**12)}-{_rand(rng, ALNUM, 24)}"
    if kind == "API_KEY":
        return rng.choice(
            [
                "sk-" + _rand(rng, ALNUM, 48),
                "sk-proj-" + _rand(rng, ALNUM + "-_", 20) + rng.choice(string.digits) + _rand(rng, ALNUM, 60),
                "sk-ant-api03-" + _rand(rng, ALNUM, 30) + "7" + _rand(rng, ALNUM + "-_", 60) + "AA",
                "sk_live_" + _rand(rng, ALNUM, 20) + "4" + _rand(rng, ALNUM, 10),
            ]
        )
    if kind == "JWT":
        return _jwt(rng)
    if kind == "PRIVATE_KEY":
        return _pem(rng, escaped=False)
    raise KeyError(kind)


# --- carrier text ----------------------------------------------------------------------------------
TEMPLATES: dict[str, list[str]] = {
    "EMAIL": ["Please send the invoice to {EMAIL} by Friday.", "My email is {EMAIL}, can you draft a reply?", "cc: {EMAIL}\nSubject: quarterly report", "Contact the maintainer ({EMAIL}) before opening a PR."],
    "PHONE_NUMBER": ["You can reach me at {PHONE_NUMBER} after 6pm.", "Call the front desk: {PHONE_NUMBER}", "phone: {PHONE_NUMBER}\naddress: see attached", "My mobile number changed to {PHONE_NUMBER}, update the CRM record."],
    "CREDIT_CARD": ["The charge on card {CREDIT_CARD} was declined, why?", "Payment details: {CREDIT_CARD} exp 09/27", "I paid with my visa {CREDIT_CARD} yesterday."],
    "IBAN": ["Wire the deposit to IBAN {IBAN} please.", "Account: {IBAN} (main account)", "refund to {IBAN} once approved"],
    "IP_ADDRESS": ["The server at {IP_ADDRESS} keeps refusing SSH connections.", "nginx logs show requests from {IP_ADDRESS} every second", "Set ALLOWED_HOSTS to include {IP_ADDRESS}."],
    "US_SSN": ["My SSN is {US_SSN}, is it safe to put on the form?", "applicant ssn: {US_SSN}", "Social security number {US_SSN} was rejected by the portal."],
    "CRYPTO": ["Send the BTC to {CRYPTO} when ready.", "my wallet: {CRYPTO}", "Is {CRYPTO} a valid bitcoin address?"],
    "URL_CREDENTIALS": ["DATABASE_URL={URL_CREDENTIALS}", "I connect with `{URL_CREDENTIALS}` but get a timeout.", "client = MongoClient(\"{URL_CREDENTIALS}\")"],
    "PASSWORD": ["Server=tcp:prod.database.windows.net,1433;Database=sales;User ID=admin;Password={PASSWORD};Encrypt=True;", "DB_PASSWORD={PASSWORD}\nDB_HOST=localhost", "jdbc:mysql://db.local:3306/shop?user=root&password={PASSWORD}"],
    "AWS_ACCESS_KEY": ["AWS_ACCESS_KEY_ID={AWS_ACCESS_KEY}", "boto3 says the key {AWS_ACCESS_KEY} is invalid", "[default]\naws_access_key_id = {AWS_ACCESS_KEY}"],
    "AWS_SECRET_KEY": ["aws_secret_access_key = {AWS_SECRET_KEY}", "export AWS_SECRET_ACCESS_KEY={AWS_SECRET_KEY}", "\"aws_secret_key\": \"{AWS_SECRET_KEY}\""],
    "GCP_API_KEY": ["const apiKey = \"{GCP_API_KEY}\";", "maps api key: {GCP_API_KEY}", "GOOGLE_CLIENT_SECRET={GCP_API_KEY}"],
    "AZURE_KEY": ["DefaultEndpointsProtocol=https;AccountName=mystore;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net", "Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={AZURE_KEY}"],
    "GITHUB_TOKEN": ["git clone https://{GITHUB_TOKEN}@github.com/org/private.git", "GITHUB_TOKEN={GITHUB_TOKEN}", "Authorization: token {GITHUB_TOKEN}"],
    "GITLAB_TOKEN": ["PRIVATE-TOKEN: {GITLAB_TOKEN}", "gitlab token is {GITLAB_TOKEN}, it stopped working"],
    "SLACK_TOKEN": ["SLACK_BOT_TOKEN={SLACK_TOKEN}", "client = WebClient(token=\"{SLACK_TOKEN}\")"],
    "API_KEY": ["OPENAI_API_KEY={API_KEY}", "client = OpenAI(api_key=\"{API_KEY}\")", "I accidentally pasted my key {API_KEY} in the chat"],
    "JWT": ["Authorization: Bearer {JWT}", "the token {JWT} expires too early", "Here is the JWT: {JWT}"],
    "PRIVATE_KEY": ["Here is my deploy key:\n{PRIVATE_KEY}\nwhy does ssh reject it?", "```\n{PRIVATE_KEY}\n```"],
}
NEG_TEMPLATES = [
    "Upgrading from {version} fixed it (released {date}).",
    "The run {uuid} failed on commit {git_hash}.",
    "Use {hex_colour} for the header and serve it on {port}.",
    "It costs {price} and the fix is tracked in {issue_number}.",
    "See {issue_number}: after {version} the date parser returns {date}.",
    "Request id {uuid}, price {price}, colour {hex_colour}.",
    "Cherry-pick {git_hash} onto {version} and redeploy to {port}.",
]
FILLER = [
    "Can you help me write a Python function that parses a CSV file and returns a list of dicts?",
    "Sure! Here is a step-by-step explanation of how gradient descent works.",
    "Summarise the following paragraph in two sentences.",
    "I'm getting a KeyError when I access the config dictionary. What am I doing wrong?",
    "Translate this sentence into French: the weather is lovely today.",
    "Here's a haiku about autumn leaves falling on a quiet pond.",
    "The main difference between a list and a tuple is mutability.",
    "Write a SQL query that counts orders per customer for the last 30 days.",
    "Great question. Let's break the problem into smaller parts first.",
    "What are three good names for a bakery that specialises in sourdough?",
    "You can use `df.groupby('city').agg({'sales': 'sum'})` to get the totals.",
    "Thanks, that worked! One more thing: how do I add type hints to this?",
]


def _negative(category: str, rng: random.Random) -> str:
    """A random hard negative of ``category`` (random values, so nothing is learnt by repetition)."""
    r = rng.randint
    if category == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if category == "git_hash":
        full = _rand(rng, "0123456789abcdef", 40)
        return full if rng.random() < 0.5 else full[:7]
    if category == "version":
        return rng.choice([f"v{r(0, 12)}.{r(0, 30)}.{r(0, 20)}", f"{r(0, 5)}.{r(0, 30)}.{r(0, 400)}", f"{r(1, 4)}.{r(0, 12)}.{r(0, 9)}-rc.{r(1, 5)}", f"{r(1, 9)}.{r(0, 9)}.{r(0, 20)}.{r(0, 9)}"])
    if category == "date":
        y, m, d = r(1990, 2030), r(1, 12), r(1, 28)
        return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}T{r(0, 23):02d}:{r(0, 59):02d}:{r(0, 59):02d}Z", f"{y}.{m:02d}.{d:02d}", f"March {d}, {y}"])
    if category == "hex_colour":
        return "#" + _rand(rng, "0123456789abcdef", rng.choice([3, 6]))
    if category == "port":
        port = rng.choice([80, 443, 3000, 5432, 6379, 8000, 8080, 27017, r(1024, 65535)])
        return rng.choice([f"localhost:{port}", f"0.0.0.0:{port}", f"port {port}", f":{port}", f"127.0.0.1:{port}"])
    if category == "price":
        return rng.choice([f"${r(1, 9999):,}.{r(0, 99):02d}", f"€{r(1, 999)}.{r(0, 99):02d}", f"USD {r(1, 99999):,}", f"£{r(1, 9999):,}.{r(0, 99):02d}", f"${r(1, 9)}.{r(0, 999):03d} per token"])
    if category == "issue_number":
        return rng.choice([f"#{r(1, 99999)}", f"PR #{r(1, 99999)}", f"issue {r(1, 99999)}", f"GH-{r(1, 9999)}", f"JIRA-{r(1, 99999)}"])
    raise KeyError(category)


def _fill(template: str, rng: random.Random, value_for) -> tuple[str, list[tuple[int, int, str]]]:
    """Render ``template``; every ``{NAME}`` slot is filled by ``value_for(NAME)`` and its span recorded."""
    out, spans, pos = [], [], 0
    length = 0
    while True:
        start = template.find("{", pos)
        end = template.find("}", start + 1) if start >= 0 else -1
        if start < 0 or end < 0 or not template[start + 1 : end].replace("_", "").isalnum():
            out.append(template[pos:])
            break
        out.append(template[pos:start])
        length += len(template[pos:start])
        name = template[start + 1 : end]
        value = value_for(name)
        spans.append((length, length + len(value), name))
        out.append(value)
        length += len(value)
        pos = end + 1
    return "".join(out), spans


def conversation(rng: random.Random, pii_rate: float, neg_rate: float) -> dict:
    """One conversation of 2-6 turns; each user/assistant turn may carry PII and hard negatives."""
    turns = rng.randint(1, 3) * 2
    messages, labels, negatives = [], [], []
    for i in range(turns):
        parts = [rng.choice(FILLER)]
        if rng.random() < pii_rate:
            kind = rng.choice(list(TEMPLATES))
            parts.append(("pii", rng.choice(TEMPLATES[kind])))
        if rng.random() < neg_rate:
            parts.append(("neg", rng.choice(NEG_TEMPLATES)))
        rng.shuffle(parts)
        text = ""
        for part in parts:
            text += "\n\n" if text else ""
            if isinstance(part, str):
                text += part
                continue
            kind, template = part
            body, spans = _fill(template, rng, (lambda n: generate_value(n, rng)) if kind == "pii" else (lambda n: _negative(n, rng)))
            for s, e, name in spans:
                if name == "URL_CREDENTIALS":  # the secret is user:password, not the whole URL
                    value = body[s:e]
                    s, e = s + value.index("://") + 3, s + value.rindex("@")
                (labels if kind == "pii" else negatives).append([i, len(text) + s, len(text) + e, name])
            text += body
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    return {"messages": messages, "labels": labels, "negatives": negatives}


def generate(n: int, seed: int, pii_rate: float, neg_rate: float) -> list[dict]:
    rng = random.Random(seed)
    return [conversation(rng, pii_rate, neg_rate) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--conversations", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--pii-rate", type=float, default=0.6, help="share of turns with one PII value")
    parser.add_argument("--neg-rate", type=float, default=0.6, help="share of turns with hard negatives")
    args = parser.parse_args()
    with open(args.out, "w") as fh:
        for conv in generate(args.conversations, args.seed, args.pii_rate, args.neg_rate):
            fh.write(json.dumps(conv) + "\n")


if __name__ == "__main__":
    main()
