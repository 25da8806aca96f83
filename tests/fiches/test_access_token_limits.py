"""fiches refuses access tokens that are validly signed but must not pass.

A token that claims to live for ten years (signed with a trusted key, as a leaked key or
a forged claim set would give) gets a 401, while the same caller with a normal token is
let in.
"""

from __future__ import annotations

from datetime import timedelta

from tests.fiches.conftest import FichesUnderTest
from tests.support.problems import problem_of

TEN_YEARS = timedelta(days=3650)


async def test_fiches_refuses_a_ten_year_token(fiches: FichesUnderTest) -> None:
    citizen = fiches.citizen("citizen")
    normal = fiches.signer.headers(citizen.user_id)
    forged = fiches.signer.headers(citizen.user_id, lifetime=TEN_YEARS)

    assert (await fiches.http.get("/api/fiches/me/requests", headers=normal)).status_code == 200
    refused = await fiches.http.get("/api/fiches/me/requests", headers=forged)
    problem = problem_of(refused, 401)
    assert problem["code"] == "invalid_token"
    assert "lives longer than" in problem["detail"]
    assert "log in again" in problem["what_to_do"].lower()
