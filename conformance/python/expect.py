"""The naive model the server's answers are checked against.

Everything here works on the JSONL the binary generated, with the semantics
of design.md section 3: window inclusive on Time, filters combined with AND,
Phones matching Caller or Callee after normalisation (digits only, one
leading "00" dropped), SessionIds exact, newest first by Time with ties by
SessionId ascending.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

_NON_DIGIT = re.compile(r"\D")


def load_jsonl(path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def norm_phone(p: str) -> str:
    d = _NON_DIGIT.sub("", p or "")
    if d.startswith("00"):
        d = d[2:]
    return d


def expected(records, sdk_app_id, start, end, phones=None, session_ids=None) -> list[dict]:
    nphones = {norm_phone(p) for p in phones} if phones else None
    sids = set(session_ids) if session_ids else None
    out = []
    for r in records:
        if r["SdkAppId"] != sdk_app_id:
            continue
        if not (start <= r["Time"] <= end):
            continue
        if nphones is not None:
            if norm_phone(r.get("Caller", "")) not in nphones and norm_phone(r.get("Callee", "")) not in nphones:
                continue
        if sids is not None and r["SessionId"] not in sids:
            continue
        out.append(r)
    out.sort(key=lambda r: (-r["Time"], r["SessionId"]))
    return out


def phone_counts(records) -> Counter:
    """How many records each normalised number appears in (Caller or Callee)."""
    c = Counter()
    for r in records:
        nums = {norm_phone(r.get("Caller", "")), norm_phone(r.get("Callee", ""))}
        nums.discard("")
        for n in nums:
            c[n] += 1
    return c


def spellings(digits: str) -> list[str]:
    """Other ways a client may write the same normalised number."""
    assert not digits.startswith("00")
    return [
        "00" + digits,                                   # 008613800000000
        "+" + digits,                                     # +8613800000000
        "+" + digits[:2] + " " + digits[2:5] + "-" + digits[5:],  # +86 138-00000000
        digits,                                           # 8613800000000
    ]


def pick_phones(records) -> tuple[str, str]:
    """Two normalised numbers of tenant-A records: one frequent, one rare,
    neither starting with 00 (so every spelling normalises back)."""
    counts = phone_counts(records)
    usable = [(n, c) for n, c in counts.most_common() if len(n) >= 6 and not n.startswith("00")]
    assert len(usable) >= 2, "the generated data has fewer than two usable phone numbers"
    # the most frequent number that still leaves out at least half of the
    # records (a hotline on every inbound call would make the AND test moot)
    frequent = next((n for n, c in usable if c <= len(records) // 2), usable[0][0])
    # a number seen a handful of times, but not the frequent one
    rare_candidates = [n for n, c in usable if 2 <= c <= 5 and n != frequent] or [usable[-1][0]]
    return frequent, rare_candidates[0]
