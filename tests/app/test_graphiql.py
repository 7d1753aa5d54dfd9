"""GraphiQL and introspection: off unless asked for, and then served offline."""

import re
from typing import Any

import pytest
from pydantic import ValidationError

from tests.app.conftest import Api
from tidings.app.graphiql import vendor_files_present
from tidings.app.settings import Settings

BROWSER = {"Accept": "text/html"}


async def test_a_production_api_serves_no_explorer_and_no_schema(api: Api) -> None:
    assert (await api.http.get("/graphql", headers=BROWSER)).status_code == 404
    assert (await api.http.get("/graphiql/tidings-graphiql.js")).status_code == 404
    body = await api.call("alice", "{ __schema { types { name } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api.data("alice", "{ viewer { id } }")) == {"viewer": {"id": "alice"}}


def test_graphiql_without_introspection_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="TIDINGS_INTROSPECTION=true"):
        Settings(graphiql=True, introspection=False)


class TestWhenAskedFor:
    @pytest.fixture
    def overrides(self) -> dict[str, Any]:
        return {"graphiql": True, "introspection": True}

    async def test_the_page_and_every_asset_it_names_come_from_this_server(self, api: Api) -> None:
        page = await api.http.get("/graphql", headers=BROWSER)
        if not vendor_files_present():
            assert page.status_code == 503
            assert "npm ci" in page.text
            pytest.skip("GraphiQL's files are not vendored (`make` does it where npm exists)")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(assets) == 8
        for asset in assets:
            assert asset.startswith("/graphiql/"), asset
            served = await api.http.get(asset)
            assert served.status_code == 200, asset
            assert served.content

    async def test_the_explorers_introspection_query_is_answered(self, api: Api) -> None:
        # graphql-js's getIntrospectionQuery(), as GraphiQL sends it: 14 deep.
        type_ref = "kind name " + "ofType { kind name " * 8 + "}" * 8
        query = f"""{{ __schema {{ queryType {{ name }} types {{ kind name
            fields(includeDeprecated: true) {{ name args {{ name type {{ {type_ref} }} }}
              type {{ {type_ref} }} }}
            inputFields {{ name type {{ {type_ref} }} }} interfaces {{ {type_ref} }}
            enumValues(includeDeprecated: true) {{ name }} possibleTypes {{ {type_ref} }} }}
            directives {{ name args {{ name type {{ {type_ref} }} }} }} }} }}"""
        schema = await api.data("alice", query)
        assert any(t["name"] == "Post" for t in schema["__schema"]["types"])

    async def test_introspection_that_walks_the_schema_again_is_refused(self, api: Api) -> None:
        walk = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
        body = await api.call("alice", walk)
        assert body["data"] is None
        messages = [error["message"] for error in body["errors"]]
        assert any("nests 4 lists" in message for message in messages), messages
