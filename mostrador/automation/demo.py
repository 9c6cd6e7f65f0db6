"""The demo desk's routing and automation: an L1 → L2 ladder, round robin with VIPs first, agent
skills and capacity, a few triggers and time rules a real desk starts with, macros and canned
replies in Spanish and English."""

from __future__ import annotations

from mostrador.accounts.actions import do_update_agent, do_update_team
from mostrador.automation import actions
from mostrador.automation.canned import do_create_canned_reply
from mostrador.routing.actions import do_set_assignment_rule

REFUND_WORDS = ["reembolso", "devolución del dinero", "refund", "money back"]
URGENT_WORDS = ["urgente", "cuanto antes", "urgent", "asap"]


def seed_demo_automation(*, users: dict, teams: dict, inboxes: dict, vip_segment: str = "vip"
                         ) -> None:
    admin = users["diego"]
    do_update_team(teams["l1"], escalates_to=teams["l2"], acting_user=admin)
    skills = {"ana": ["language:es", "product:envios"], "lucia": ["language:es", "language:en"],
              "beto": ["language:es", "language:en", "product:devoluciones"],
              "sam": ["language:en", "language:es", "product:facturacion"],
              "carla": ["language:es", "product:facturacion"]}
    # Everyone starts offline: an agent who switches to online in the header gets the queue.
    for key, agent_skills in skills.items():
        do_update_agent(users[key].agent, skills=agent_skills,
                        capacity={"email": 25, "webchat": 3})
    do_set_assignment_rule(team=teams["l1"], strategy="round_robin",
                           premium_segments=[vip_segment], acting_user=admin)
    do_set_assignment_rule(team=teams["l2"], strategy="least_loaded",
                           premium_segments=[vip_segment], acting_user=admin)
    do_set_assignment_rule(team=teams["billing"], strategy="skills", include_away=True,
                           acting_user=admin)

    actions.do_create_trigger(
        name="Reembolsos a Facturación", events=["conversation.created", "message.received"],
        conditions={"all": [{"field": "text", "op": "contains", "value": REFUND_WORDS}]},
        actions=[{"type": "set_team", "value": teams["billing"].pk},
                 {"type": "add_tags", "value": ["reembolso"]}],
        description="Refund requests go straight to billing.", acting_user=admin)
    actions.do_create_trigger(
        name="Urgente por el texto", events=["conversation.created", "message.received"],
        conditions={"all": [{"field": "text", "op": "contains", "value": URGENT_WORDS},
                            {"field": "priority", "op": "lt", "value": 3}]},
        actions=[{"type": "set_priority", "value": 3}], acting_user=admin)
    actions.do_create_trigger(
        name="VIP: aviso a supervisión", events=["conversation.created"],
        conditions={"all": [{"field": "customer.segments", "op": "includes",
                             "value": vip_segment}]},
        actions=[{"type": "add_tags", "value": ["vip"]},
                 {"type": "notify", "value": {
                     "to": "supervisors",
                     "text": "{{ customer.name }} (VIP) abrió #{{ conversation.id }}: "
                             "{{ conversation.subject }}"}}],
        acting_user=admin)

    reminder = {"es": "Hola {{ customer.first_name }}, ¿pudiste revisar nuestra última "
                      "respuesta? Si necesitas algo más, contesta a este mensaje.",
                "en": "Hi {{ customer.first_name }}, did you get a chance to look at our "
                      "last answer? If you need anything else, just reply to this message."}
    actions.do_create_time_rule(name="Recordatorio a los 3 días", status="pending", hours=72,
                                actions=[{"type": "reply", "value": reminder}],
                                acting_user=admin)
    actions.do_create_time_rule(name="Resolver a los 7 días sin respuesta", status="pending",
                                hours=168, actions=[{"type": "set_status", "value": "solved"}],
                                acting_user=admin)
    actions.do_create_time_rule(name="Cerrar a los 4 días de resuelta", status="solved",
                                hours=96, actions=[{"type": "set_status", "value": "closed"}],
                                acting_user=admin)

    actions.do_create_macro(
        name="Pedir número de pedido",
        actions=[{"type": "reply", "value": {
            "es": "Hola {{ customer.first_name }}, para ayudarte necesitamos el número de "
                  "pedido (empieza por PED-). ¡Gracias!\n{{ agent.first_name }}",
            "en": "Hi {{ customer.first_name }}, to help you we need your order number (it "
                  "starts with PED-). Thank you!\n{{ agent.first_name }}"}},
                 {"type": "set_status", "value": "pending"},
                 {"type": "add_tags", "value": ["falta-dato"]}],
        acting_user=admin)
    actions.do_create_macro(
        name="Escalar a L2 con nota",
        actions=[{"type": "add_note", "value": "Escalado por {{ agent.name }}: revisar "
                                               "historial del pedido."},
                 {"type": "escalate"}],
        acting_user=admin)
    for title, shortcut, es, en in (
        ("Saludo", "hola",
         "Hola {{ customer.first_name }}:\n\nGracias por escribirnos.",
         "Hi {{ customer.first_name }},\n\nThank you for writing to us."),
        ("Plazo de reembolso", "reembolso",
         "El reembolso de tu pedido se hace en 5 a 7 días hábiles en el mismo medio de pago.",
         "Your refund is made within 5 to 7 working days to the same payment method."),
        ("Despedida", "adios",
         "Quedamos a tu disposición.\n{{ agent.name }}",
         "We remain at your disposal.\n{{ agent.name }}"),
    ):
        do_create_canned_reply(title=title, shortcut=shortcut, bodies={"es": es, "en": en},
                               acting_user=admin)
