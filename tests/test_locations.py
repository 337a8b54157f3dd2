"""Where the JWT is looked for: headers, cookies, query string, JSON body."""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from typing import Any

import pytest

from tests.helpers import GUARD, Env

LOCATIONS = ["headers", "cookies", "query_string", "json"]

# The reason each location gives when the token is absent, for a GET request
# without a body (defaults for every name).
MISSING = {
    "headers": "Missing Authorization Header",
    "cookies": 'Missing cookie "access_token_cookie"',
    "query_string": "Missing 'jwt' query paramater",
    "json": "Invalid content-type. Must be application/json.",
}

ORDERS = [list(p) for n in (2, 3, 4) for p in permutations(LOCATIONS, n)]


def send(
    env: Env,
    location: str | None,
    token: str,
    path: str = "/protected",
    method: str = "GET",
    refresh: bool = False,
) -> tuple[int, Any]:
    """Send ``token`` in ``location`` (GET: cookies need no CSRF token)."""
    kwargs: dict[str, Any] = {}
    if location == "headers":
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    elif location == "cookies":
        name = "refresh_token_cookie" if refresh else "access_token_cookie"
        env.client.set_cookie(name, token)
    elif location == "query_string":
        kwargs["query_string"] = {"jwt": token}
    elif location == "json":
        kwargs["json"] = {"refresh_token" if refresh else "access_token": token}
        if method == "GET":  # JSON body tokens are for requests that have a body
            method = "POST"
    return env.request(method, path, **kwargs)


def expected_missing(order: list[str]) -> str:
    if len(order) == 1:
        return MISSING[order[0]]
    details = "; ".join(MISSING[loc] for loc in order)
    return f"Missing JWT in {', '.join(order[:-1])} or {order[-1]} ({details})"


# --- single locations ----------------------------------------------------------


@pytest.mark.parametrize("location", LOCATIONS)
def test_single_location_accepts_token(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=[location])
    assert send(env, location, env.access_token("alice")) == (
        200,
        {"identity": "alice", "location": location, "type": "access"},
    )


@pytest.mark.parametrize("location", LOCATIONS)
def test_single_location_missing(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=[location])
    assert env.request("GET", "/protected") == (401, {"msg": MISSING[location]})


@pytest.mark.parametrize("location", LOCATIONS)
def test_location_as_plain_string(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=location)
    assert send(env, location, env.access_token())[0] == 200
    env.client.delete_cookie("access_token_cookie")
    assert env.request("GET", "/protected") == (401, {"msg": MISSING[location]})


@pytest.mark.parametrize("location", LOCATIONS)
def test_single_location_ignores_other_locations(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=[location])
    token = env.access_token()
    for other in LOCATIONS:
        if other != location:
            env.client.delete_cookie("access_token_cookie")
            status, body = send(env, other, token)
            assert status == 401, other
            assert body == {"msg": MISSING[location]} or location == "json"


@pytest.mark.parametrize("location", LOCATIONS)
def test_refresh_token_in_each_location(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=[location])
    status, body = send(env, location, env.refresh_token("bob"), path="/refresh", refresh=True)
    assert status == 200
    assert body == {"identity": "bob", "location": location, "type": "refresh"}


@pytest.mark.parametrize("location", LOCATIONS)
def test_invalid_token_in_each_location_is_422(make_env: Callable[..., Env], location: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=[location])
    assert send(env, location, "not-a-token") == (422, {"msg": "Not enough segments"})


def test_default_location_is_headers_only(env: Env) -> None:
    token = env.access_token()
    assert send(env, "headers", token)[0] == 200
    assert send(env, "query_string", token) == (401, {"msg": "Missing Authorization Header"})


# --- combined locations, every order ------------------------------------------


@pytest.mark.parametrize("order", ORDERS, ids=["+".join(o) for o in ORDERS])
def test_combined_locations_missing_message(make_env: Callable[..., Env], order: list[str]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=order)
    assert env.request("GET", "/protected") == (401, {"msg": expected_missing(order)})


@pytest.mark.parametrize("order", ORDERS, ids=["+".join(o) for o in ORDERS])
def test_combined_locations_find_token_anywhere(make_env: Callable[..., Env], order: list[str]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=order)
    token = env.access_token()
    for location in order:
        env.client.delete_cookie("access_token_cookie")
        assert send(env, location, token)[1]["location"] == location


def test_headers_or_cookies_message_verbatim(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["headers", "cookies"])
    assert env.request("GET", "/protected") == (
        401,
        {
            "msg": "Missing JWT in headers or cookies (Missing Authorization Header; "
            'Missing cookie "access_token_cookie")'
        },
    )


def test_combined_message_differential(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        return [env.request("GET", "/protected"), env.request("POST", "/protected", json={})]

    result = differential(scenario, config={"JWT_TOKEN_LOCATION": ["json", "query_string"]})
    assert result[1] == (
        401,
        {
            "msg": 'Missing JWT in json or query_string (Missing "access_token" key in json '
            "data.; Missing 'jwt' query paramater)"
        },
    )


def test_first_location_wins_when_token_in_two(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["query_string", "headers"])
    good = env.access_token("good")
    other = env.access_token("other")
    headers = {"Authorization": f"Bearer {other}"}
    status, body = env.request("GET", "/protected", query_string={"jwt": good}, headers=headers)
    assert (status, body["identity"], body["location"]) == (200, "good", "query_string")


def test_invalid_token_in_first_location_is_not_skipped(make_env: Callable[..., Env]) -> None:
    # A token that is present but invalid is an error; the next location is not tried.
    env = make_env(JWT_TOKEN_LOCATION=["query_string", "headers"])
    status, body = env.request(
        "GET",
        "/protected",
        query_string={"jwt": "garbage"},
        headers={"Authorization": f"Bearer {env.access_token()}"},
    )
    assert (status, body) == (422, {"msg": "Not enough segments"})


def test_missing_first_location_falls_through(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["cookies", "headers"])
    assert send(env, "headers", env.access_token())[1]["location"] == "headers"


# --- per-route locations --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/only_headers", "headers"),
        ("/only_cookies", "cookies"),
        ("/only_query", "query_string"),
        ("/only_json", "json"),
    ],
)
def test_route_locations_override_config(make_env: Callable[..., Env], path: str, location: str) -> None:
    # The config names a location the route does not use, and vice versa.
    config_location = "query_string" if location != "query_string" else "headers"
    env = make_env(JWT_TOKEN_LOCATION=[config_location])
    token = env.access_token()
    assert send(env, location, token, path=path)[1]["location"] == location
    env.client.delete_cookie("access_token_cookie")
    assert send(env, config_location, token, path=path) == (401, {"msg": MISSING[location]})


def test_route_locations_list_of_two(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    token = env.access_token()
    assert send(env, "headers", token, path="/headers_then_cookies")[0] == 200
    env2 = make_env(JWT_TOKEN_LOCATION=["json"])
    assert send(env2, "cookies", token, path="/headers_then_cookies")[0] == 200
    assert env2.client.delete_cookie("access_token_cookie") is None
    assert env2.request("GET", "/headers_then_cookies") == (
        401,
        {
            "msg": "Missing JWT in headers or cookies (Missing Authorization Header; "
            'Missing cookie "access_token_cookie")'
        },
    )


def test_verify_jwt_in_request_locations_argument(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["headers"])
    lib = env.lib

    @env.app.route("/manual")
    def manual() -> Any:
        lib.verify_jwt_in_request(locations="query_string")
        return {"location": lib.get_jwt_request_location()}

    assert env.request("GET", "/manual", query_string={"jwt": env.access_token()}) == (
        200,
        {"location": "query_string"},
    )


# --- headers ------------------------------------------------------------------


def test_custom_header_name(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_HEADER_NAME="X-Auth-Token")
    token = env.access_token()
    assert env.request("GET", "/protected", headers={"X-Auth-Token": f"Bearer {token}"})[0] == 200
    assert env.request("GET", "/protected", headers={"Authorization": f"Bearer {token}"}) == (
        401,
        {"msg": "Missing X-Auth-Token Header"},
    )


def test_custom_header_type(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_HEADER_TYPE="JWT")
    token = env.access_token()
    assert env.request("GET", "/protected", headers={"Authorization": f"JWT {token}"})[0] == 200
    assert env.request("GET", "/protected", headers={"Authorization": f"Bearer {token}"}) == (
        401,
        {"msg": "Missing 'JWT' type in 'Authorization' header. Expected 'Authorization: JWT <JWT>'"},
    )


def test_empty_header_type(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_HEADER_TYPE="")
    token = env.access_token()
    assert env.request("GET", "/protected", headers={"Authorization": token})[0] == 200
    assert env.request("GET", "/protected", headers={"Authorization": f"Bearer {token}"}) == (
        422,
        {"msg": "Bad Authorization header. Expected 'Authorization: <JWT>'"},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bearer a b", (422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'")),
        ("Bearer", (422, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'")),
        (
            "Token abc",
            (
                401,
                "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
            ),
        ),
        ("", (401, "Missing Authorization Header")),
        ("   ", (401, "Missing Authorization Header")),
    ],
    ids=["two-values", "no-token", "other-type", "empty", "blank"],
)
def test_malformed_authorization_header(env: Env, value: str, expected: tuple[int, str]) -> None:
    status, body = env.request("GET", "/protected", headers={"Authorization": value})
    assert (status, body) == (expected[0], {"msg": expected[1]})


def test_header_with_several_schemes(env: Env) -> None:
    token = env.access_token()
    headers = {"Authorization": f"Basic dXNlcjpwYXNz, Bearer {token}"}
    assert env.request("GET", "/protected", headers=headers)[0] == 200


def test_header_surrounding_whitespace(env: Env) -> None:
    token = env.access_token()
    assert env.request("GET", "/protected", headers={"Authorization": f"  Bearer {token}  "})[0] == (200)


def test_header_errors_differential(differential: Callable[..., Any]) -> None:
    values = [
        "Bearer",
        "Bearer a b",
        "Token x",
        "Basic x, Bearer y",
        "Bearer a.b.c",
        "Bearer ,",
        ",",
    ]

    def scenario(env: Env) -> Any:
        return [env.request("GET", "/protected", headers={"Authorization": v}) for v in values]

    results = differential(scenario)
    assert all(400 <= status < 500 for status, _ in results)


@pytest.mark.parametrize("path", ["/protected", "/optional"])
def test_two_bearer_credentials_are_an_error_not_absent(env: Env, path: str) -> None:
    token = env.access_token()
    status, body = env.request("GET", path, headers={"Authorization": f"Bearer {token}, Bearer {token}"})
    if env.lib is GUARD:
        assert (status, body) == (422, {"msg": "Bad Authorization header. More than one 'Bearer' credential"})
    else:  # the peer takes it as "no token": an optional route goes anonymous
        assert status == (401 if path == "/protected" else 200)


# --- query string ----------------------------------------------------------------


def test_query_string_name(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["query_string"], JWT_QUERY_STRING_NAME="token")
    token = env.access_token()
    assert env.request("GET", "/protected", query_string={"token": token})[0] == 200
    assert env.request("GET", "/protected", query_string={"jwt": token}) == (
        401,
        {"msg": "Missing 'token' query paramater"},
    )


def test_query_string_prefix(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["query_string"], JWT_QUERY_STRING_VALUE_PREFIX="Bearer ")
    token = env.access_token()
    assert env.request("GET", "/protected", query_string={"jwt": f"Bearer {token}"})[0] == 200
    assert env.request("GET", "/protected", query_string={"jwt": token}) == (
        422,
        {"msg": "Invalid value for query parameter 'jwt'. Expected the value to start with 'Bearer '"},
    )


def test_query_string_empty_value_is_missing(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["query_string"])
    assert env.request("GET", "/protected", query_string={"jwt": ""}) == (
        401,
        {"msg": "Missing 'jwt' query paramater"},
    )


# --- JSON body ----------------------------------------------------------------------


def test_json_custom_keys(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"], JWT_JSON_KEY="tok", JWT_REFRESH_JSON_KEY="rtok")
    assert env.request("POST", "/protected", json={"tok": env.access_token()})[0] == 200
    assert env.request("POST", "/refresh", json={"rtok": env.refresh_token()})[0] == 200
    assert env.request("POST", "/protected", json={"access_token": env.access_token()}) == (
        401,
        {"msg": 'Missing "tok" key in json data.'},
    )
    assert env.request("POST", "/refresh", json={"tok": env.refresh_token()}) == (
        401,
        {"msg": 'Missing "rtok" key in json data.'},
    )


def test_json_body_on_get(make_env: Callable[..., Env]) -> None:
    """A GET body has no defined meaning: Flask-JWT-Guard does not read tokens from it."""
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    response = env.request("GET", "/protected", json={"access_token": env.access_token()})
    if env.name == "flask_jwt_guard":
        assert response == (401, {"msg": "JSON body tokens are not accepted on GET or HEAD requests"})
    else:
        assert response == (200, {"identity": "alice", "location": "json", "type": "access"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"access_token": "x"}},
        {"data": '{"access_token": "x"}', "content_type": "text/plain"},
        {},
    ],
    ids=["form", "text-plain", "no-body"],
)
def test_json_wrong_content_type(make_env: Callable[..., Env], kwargs: dict[str, Any]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    assert env.request("POST", "/protected", **kwargs) == (
        401,
        {"msg": "Invalid content-type. Must be application/json."},
    )


@pytest.mark.parametrize(
    "body",
    ["{bad json", "", "null", "{}", '{"access_token": ""}', '{"other": 1}'],
    ids=["malformed", "empty", "null", "empty-object", "empty-token", "other-key"],
)
def test_json_missing_or_malformed(make_env: Callable[..., Env], body: str) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    assert env.request("POST", "/protected", data=body, content_type="application/json") == (
        401,
        {"msg": 'Missing "access_token" key in json data.'},
    )


@pytest.mark.parametrize(
    "body",
    ["[1, 2]", '"a string"', "5", "true"],
    ids=["array", "string", "number", "bool"],
)
def test_json_non_object_body_is_clean_4xx(
    make_env: Callable[..., Env], body: str, request: pytest.FixtureRequest
) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    if env.name == "flask_jwt_extended":
        # Known reference defect; flask_jwt_guard must do better.
        request.applymarker(
            pytest.mark.xfail(
                raises=AttributeError,
                strict=True,
                reason="reference crashes: request.json.get on a non-object body",
            )
        )
    status, payload = env.request("POST", "/protected", data=body, content_type="application/json")
    assert 400 <= status < 500
    assert isinstance(payload, dict)
    assert isinstance(payload.get("msg"), str)


def test_json_non_string_token_is_clean_4xx(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    for value in (5, ["a"], {"a": 1}):
        status, payload = env.request("POST", "/protected", json={"access_token": value})
        assert 400 <= status < 500, value
        assert isinstance(payload.get("msg"), str)


def test_malformed_json_with_other_location_still_finds_header(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json", "headers"])
    status, body = env.request(
        "POST",
        "/protected",
        data="{oops",
        content_type="application/json",
        headers={"Authorization": f"Bearer {env.access_token()}"},
    )
    assert (status, body["location"]) == (200, "headers")


def test_optional_with_malformed_json_is_anonymous(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["json"])
    assert env.request("POST", "/optional", data="{oops", content_type="application/json") == (
        200,
        {"identity": None, "location": None, "type": None},
    )
