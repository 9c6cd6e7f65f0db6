"""Customers: search, create, edit, identities, merge, and their conversations."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from mostrador.api import parse, reads, render
from mostrador.api.errors import renamed_fields
from mostrador.api.schemas import (
    ConversationPage,
    CustomerCreateIn,
    CustomerOut,
    CustomerPage,
    CustomerPatchIn,
    IdentityIn,
    IdentityOut,
    MergeIn,
)
from mostrador.conversations.queries import ConversationFilters, list_conversations
from mostrador.customers.actions import (
    do_add_identity,
    do_create_customer,
    do_merge_customers,
    do_update_customer,
)

router = Router(tags=["customers"])

# PATCH with null clears a field.
_EMPTY = {"name": "", "language": "", "time_zone": "", "segments": [], "attributes": {}}


@router.get("/customers", response=CustomerPage)
def list_customers_view(request: HttpRequest, q: str = "", cursor: str | None = None,
                        limit: int = 50):
    """Customers, newest first; ``q`` matches the name or any identity (an e-mail address, a
    phone number…)."""
    rows, next_cursor = reads.list_customers(request.user, q=q, cursor=cursor,
                                             limit=parse.page_limit(limit))
    return {"items": [render.customer(c) for c in rows], "next_cursor": next_cursor}


@router.post("/customers", response={201: CustomerOut})
def create_customer(request: HttpRequest, payload: CustomerCreateIn):
    fields = payload.model_dump(exclude={"identities", "organisation"})
    if payload.organisation is not None:
        fields["organisation"] = reads.organisation(payload.organisation)
    customer = do_create_customer(
        identities=[(i.kind, i.external_id) for i in payload.identities],
        acting_user=request.user, **fields)
    return render.customer(reads.access_customer(request.user, customer.pk))


@router.get("/customers/{int:customer_id}", response=CustomerOut)
def get_customer(request: HttpRequest, customer_id: int):
    return render.customer(reads.access_customer(request.user, customer_id))


@router.patch("/customers/{int:customer_id}", response=CustomerOut)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatchIn):
    customer = reads.access_customer(request.user, customer_id)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("organisation") is not None:
        changes["organisation"] = reads.organisation(changes["organisation"])
    for field, empty in _EMPTY.items():
        if field in changes and changes[field] is None:
            changes[field] = empty
    do_update_customer(customer, acting_user=request.user, **changes)
    return render.customer(reads.access_customer(request.user, customer_id))


@router.post("/customers/{int:customer_id}/identities", response={201: IdentityOut})
def add_identity(request: HttpRequest, customer_id: int, payload: IdentityIn):
    customer = reads.access_customer(request.user, customer_id, detailed=False)
    identity = do_add_identity(customer, payload.kind, payload.external_id,
                               verified=payload.verified, acting_user=request.user)
    return {"id": identity.pk, "kind": identity.kind, "external_id": identity.external_id,
            "verified": identity.verified}


@router.post("/customers/{int:customer_id}/merge", response=CustomerOut)
def merge_customer(request: HttpRequest, customer_id: int, payload: MergeIn):
    """Fold this customer (a duplicate) into ``into``: identities and conversations move; the
    answer is the surviving customer."""
    source = reads.access_customer(request.user, customer_id, detailed=False)
    target = reads.access_customer(request.user, payload.into, field="into", detailed=False)
    with renamed_fields({"target": "into"}):
        merged = do_merge_customers(source, target, acting_user=request.user)
    return render.customer(reads.access_customer(request.user, merged.pk))


@router.get("/customers/{int:customer_id}/conversations", response=ConversationPage)
def customer_conversations(request: HttpRequest, customer_id: int, cursor: str | None = None,
                           limit: int = 50, order: str = "-created"):
    customer = reads.access_customer(request.user, customer_id, detailed=False)
    page = list_conversations(request.user, ConversationFilters(customer=customer.pk,
                                                                order=order),
                              cursor=cursor, limit=parse.page_limit(limit))
    return {"items": render.conversations(page.items), "next_cursor": page.next_cursor}
