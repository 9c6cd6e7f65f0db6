"""Authentication, the error contract, limits, /me and the OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import Client

from mostrador.accounts.actions import do_create_api_token, do_revoke_api_token
from mostrador.api.tests.conftest import ApiClient, error, ok


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer mst_not-a-token", "Token abc",
                                    "Basic YW5hOnNlY3JldA=="])
def test_requests_without_a_valid_token_get_401_json(desk, header):
    headers = {"Authorization": header} if header is not None else {}
    response = Client().get("/api/v1/conversations", headers=headers)
    body = error(response, 401)
    assert body["field"] is None
    assert "Bearer" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_and_an_inactive_user_are_refused(desk):
    record, token = do_create_api_token(desk.beto, name="script")
    client = ApiClient(token)
    ok(client.get("/me"))
    do_revoke_api_token(record)
    error(client.get("/me"), 401)

    _record, token = do_create_api_token(desk.carla)
    desk.carla.is_active = False
    desk.carla.save(update_fields=["is_active"])
    error(ApiClient(token).get("/me"), 401)


def test_me_is_the_tokens_user_with_its_agent_profile(api, client_for, desk):
    me = ok(api.get("/me"))
    assert me["email"] == "ana@desk.example.com"
    assert me["name"] == "Ana García"
    assert me["role"] == "agent"
    assert (me["is_supervisor"], me["is_admin"]) == (False, False)
    assert [t["name"] for t in me["teams"]] == ["Soporte L1"]

    diego = ok(client_for(desk.diego).get("/me"))
    assert (diego["role"], diego["is_supervisor"], diego["is_admin"]) == ("admin", True, True)


def test_openapi_document_is_public_and_documents_the_bearer_scheme(db):
    response = Client().get("/api/v1/openapi.json")
    schema = ok(response)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/v1/conversations", "/api/v1/conversations/{conversation_id}",
                 "/api/v1/conversations/{conversation_id}/messages",
                 "/api/v1/conversations/{conversation_id}/reply", "/api/v1/customers",
                 "/api/v1/inboxes", "/api/v1/raw-inbound", "/api/v1/me"):
        assert path in paths, path
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http", "scheme": "bearer"}
    assert paths["/api/v1/conversations"]["get"]["security"] == [{"BearerToken": []}]
    message = schema["components"]["schemas"]["MessageOut"]["properties"]
    assert "reply_text" in message


def test_unknown_endpoints_and_methods_answer_json(api):
    body = error(api.get("/no-such-thing"), 404)
    assert "/api/v1/no-such-thing" in body["detail"]
    error(api.get("/conversations/not-a-number"), 404)
    response = api.send("PUT", "/conversations")
    body = error(response, 405)
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_malformed_json_is_a_400_that_says_so(api, desk):
    body = error(api.post("/conversations", raw='{"inbox": 1, "text": '), 400)
    assert body["detail"].startswith("The request body is not valid JSON: ")
    assert body["field"] is None
    body = error(api.post("/conversations", raw=b"\xff\xfe{}"), 400)
    assert "not valid JSON" in body["detail"]


def test_a_body_that_is_not_an_object_or_is_missing_is_a_400(api, desk):
    body = error(api.post("/conversations", raw="[1, 2]"), 400)
    assert body["detail"] == "The request body must be a JSON object."
    body = error(api.post("/conversations"), 400)
    assert "missing" in body["detail"]


def test_validation_errors_are_400_naming_the_first_field(api, desk):
    body = error(api.post("/conversations", {"inbox": desk.inbox.pk, "customer": "x",
                                             "text": "hola"}), 400)
    assert body["field"] == "customer"
    assert body["detail"].startswith("customer: ")
    body = error(api.post("/conversations", {"inbox": desk.inbox.pk,
                                             "customer": desk.elena.pk}), 400)
    assert (body["field"], body["detail"]) == ("text", "text: Field required")
    body = error(api.post("/conversations", {"inbox": desk.inbox.pk, "text": "hola",
                                             "customer": desk.elena.pk, "colour": "red"}), 400)
    assert body["field"] == "colour"
    body = error(api.post("/customers", {"identities": [{"kind": "email"}]}), 400)
    assert body["field"] == "identities.0.external_id"
    body = error(api.get("/conversations", {"limit": "lots"}), 400)
    assert body["field"] == "limit"


def test_a_body_over_the_limit_is_413(api, desk, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = error(api.post("/conversations", {"inbox": desk.inbox.pk, "customer": desk.elena.pk,
                                             "text": "x" * 5_000}), 413)
    assert "2000" in body["detail"]
