"""Writers for customers, identities and organisations. The only code that changes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mostrador.core.errors import Conflict, ValidationFailed
from mostrador.customers.models import Customer, CustomerEvent, Identity, Organisation

EDITABLE_FIELDS = ("name", "language", "time_zone", "organisation", "segments", "attributes")


def normalise_external_id(kind: str, external_id: str) -> str:
    value = (external_id or "").strip()
    if kind == Identity.Kind.EMAIL:
        return value.lower()
    if kind in {Identity.Kind.PHONE, Identity.Kind.WHATSAPP}:
        digits = "".join(ch for ch in value if ch.isdigit())
        return f"+{digits}" if digits else value
    return value


def live_customer(customer: Customer) -> Customer:
    """Follow ``merged_into`` to the customer a duplicate became."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _record(customer: Customer, kind: str, *, acting_user=None, before=None, after=None) -> None:
    CustomerEvent.objects.create(customer=customer, kind=kind, actor_user=acting_user,
                                 before=before, after=after, at=timezone.now())


def resolve_identity(kind: str, external_id: str, *, name: str = "",
                     organisation_from_domain: bool = True) -> tuple[Customer, bool]:
    """The customer behind an identity, created with it when new. Returns (customer, created).

    Safe under concurrency: two deliveries racing on a new address end with one customer (the
    loser of the unique constraint re-reads inside a savepoint).
    """
    external_id = normalise_external_id(kind, external_id)
    if not external_id:
        raise ValidationFailed("an identity needs an external id", field="external_id")
    identity = (Identity.objects.select_related("customer")
                .filter(kind=kind, external_id=external_id).first())
    if identity is not None:
        customer = identity.customer
        if customer.merged_into_id:
            customer = live_customer(customer)
        elif name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name", "updated_at"])
        return customer, False
    organisation = None
    if organisation_from_domain and kind == Identity.Kind.EMAIL and "@" in external_id:
        organisation = organisation_for_domain(external_id.rsplit("@", 1)[1])
    try:
        with transaction.atomic():
            customer = Customer.objects.create(name=name[:200], organisation=organisation)
            Identity.objects.create(customer=customer, kind=kind, external_id=external_id)
    except IntegrityError:
        identity = Identity.objects.select_related("customer").get(kind=kind,
                                                                    external_id=external_id)
        return live_customer(identity.customer), False
    return customer, True


def organisation_for_domain(domain: str) -> Organisation | None:
    domain = domain.lower()
    # Organisations are few; only a new customer asks, once.
    for organisation in Organisation.objects.only("id", "domains"):
        if domain in [d.lower() for d in organisation.domains or []]:
            return organisation
    return None


@transaction.atomic
def do_create_organisation(*, name: str, domains: Iterable[str] = (),
                           attributes: dict[str, Any] | None = None) -> Organisation:
    """An organisation; new senders from one of its mail ``domains`` join it."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("an organisation needs a name", field="name")
    clean = sorted({d.strip().lower().lstrip("@") for d in domains if d and d.strip()})
    taken = [d for org in Organisation.objects.only("domains") for d in org.domains or []
             if d.lower() in clean]
    if taken:
        raise Conflict(f"the domain {taken[0]} already belongs to another organisation",
                       field="domains")
    return Organisation.objects.create(name=name[:200], domains=clean,
                                       attributes=attributes or {})


@transaction.atomic
def do_create_customer(*, name: str = "", identities: Iterable[tuple[str, str]] = (),
                       acting_user=None, **fields: Any) -> Customer:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown customer field {sorted(unknown)[0]!r}",
                               field=sorted(unknown)[0])
    customer = Customer.objects.create(name=name, **fields)
    for kind, external_id in identities:
        do_add_identity(customer, kind, external_id, acting_user=acting_user)
    _record(customer, "customer.created", acting_user=acting_user, after={"name": name})
    return customer


@transaction.atomic
def do_add_identity(customer: Customer, kind: str, external_id: str, *, verified: bool = False,
                    acting_user=None) -> Identity:
    if kind not in Identity.Kind.values:
        raise ValidationFailed(f"unknown identity kind {kind!r}; use one of "
                               f"{', '.join(Identity.Kind.values)}", field="kind")
    external_id = normalise_external_id(kind, external_id)
    if not external_id:
        raise ValidationFailed("an identity needs an external id", field="external_id")
    existing = Identity.objects.filter(kind=kind, external_id=external_id).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise Conflict(f"{kind} {external_id} already belongs to customer "
                       f"#{existing.customer_id}; merge the two customers instead",
                       field="external_id")
    identity = Identity.objects.create(customer=customer, kind=kind, external_id=external_id,
                                       verified=verified)
    _record(customer, "identity.added", acting_user=acting_user,
            after={"kind": kind, "external_id": external_id})
    return identity


@transaction.atomic
def do_update_customer(customer: Customer, *, acting_user=None, **changes: Any) -> Customer:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"unknown customer field {field!r}", field=field)
    before, after = {}, {}
    for field, value in changes.items():
        old = getattr(customer, field)
        if old != value:
            before[field] = old.pk if isinstance(old, Organisation) else old
            after[field] = value.pk if isinstance(value, Organisation) else value
            setattr(customer, field, value)
    if after:
        customer.save(update_fields=[*after, "updated_at"])
        _record(customer, "customer.updated", acting_user=acting_user, before=before,
                after=after)
    return customer


@transaction.atomic
def do_merge_customers(source: Customer, target: Customer, *, acting_user=None) -> Customer:
    """Fold the duplicate ``source`` into ``target``: identities, conversations and messages
    move; attributes the target lacks are copied; ``source`` keeps a pointer to ``target``."""
    from mostrador.conversations.actions import move_customer_conversations

    if source.pk == target.pk:
        raise ValidationFailed("a customer cannot be merged into itself", field="target")
    source = Customer.objects.select_for_update().get(pk=source.pk)
    target = Customer.objects.select_for_update().get(pk=target.pk)
    if source.merged_into_id or target.merged_into_id:
        raise Conflict("one of these customers was already merged into another")
    moved_identities = list(source.identities.values_list("kind", "external_id"))
    source.identities.update(customer=target)
    move_customer_conversations(source, target, acting_user=acting_user)
    for key, value in (source.attributes or {}).items():
        target.attributes.setdefault(key, value)
    target.segments = sorted(set(target.segments or []) | set(source.segments or []))
    if not target.name:
        target.name = source.name
    if not target.organisation_id:
        target.organisation_id = source.organisation_id
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    Customer.objects.filter(merged_into=source).update(merged_into=target)
    _record(target, "customer.merged", acting_user=acting_user,
            before={"customer": source.pk}, after={"identities": moved_identities})
    _record(source, "customer.merged_into", acting_user=acting_user, after={"customer": target.pk})
    return target
