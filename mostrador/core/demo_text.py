"""What the demo desk's customers and agents write, in Spanish and English.

Templates are filled with ``str.format_map`` from the facts of one conversation: {first}
{name} {order} {amount} {product} {date} {date2} {days} {tracking} {card} {city} {street}
{invoice} {company} {taxid} {plan} {coupon} {phone} {n} {agent}.
"""

from __future__ import annotations

import dataclasses

SHOP = "Mercado Sol"


@dataclasses.dataclass(frozen=True)
class Topic:
    key: str
    tag: str
    team: str
    subjects: dict[str, tuple[str, ...]]
    bodies: dict[str, tuple[str, ...]]
    replies: dict[str, tuple[str, ...]]
    notes: dict[str, tuple[str, ...]]
    priority: tuple[int, ...] = (2,)  # drawn from; 1 low … 4 urgent


TOPICS = (
    Topic(
        "order_late", "envío", "l1",
        subjects={
            "es": ("Mi pedido {order} no ha llegado", "¿Dónde está mi pedido?",
                   "Pedido {order} sin noticias", "Retraso en la entrega del pedido {order}"),
            "en": ("Order {order} hasn't arrived", "Where is my order?",
                   "Still waiting for order {order}", "Late delivery - {order}"),
        },
        bodies={
            "es": ("Hice el pedido {order} el {date} ({product}) y todavía no me ha llegado. En "
                   "el seguimiento pone «en reparto» desde hace {days} días. ¿Podéis decirme "
                   "qué pasa?",
                   "El pedido {order} tenía que llegar a {city} el {date} y no hay rastro de él. "
                   "Es para un regalo, ¿me podéis dar una fecha?",
                   "El número de seguimiento {tracking} no da ninguna información desde el "
                   "{date}. El pedido es el {order}."),
            "en": ("I placed order {order} on {date} ({product}) and it still hasn't arrived. "
                   "Tracking has said \"out for delivery\" for {days} days now. Could you look "
                   "into it?",
                   "My order {order} was due in {city} on {date} but nothing has shown up. It's "
                   "a birthday present, so a delivery date would really help.",
                   "Tracking number {tracking} hasn't updated since {date}. The order number is "
                   "{order}."),
        },
        replies={
            "es": ("Gracias por avisarnos. He revisado el pedido {order}: la agencia lo tenía "
                   "retenido en su delegación de {city} por una etiqueta dañada. Ya está "
                   "reetiquetado y sale hoy a reparto; nuevo seguimiento: {tracking}.",
                   "Siento el retraso. El pedido {order} salió de nuestro almacén el {date}, "
                   "pero la agencia ha tenido incidencias en la zona de {city}. Lo he marcado "
                   "como urgente y debería llegarte en 24-48 horas."),
            "en": ("Thanks for letting us know. I checked order {order}: the carrier was holding "
                   "it at their {city} depot because of a damaged label. It has been relabelled "
                   "and goes out for delivery today; new tracking number: {tracking}.",
                   "Sorry about the delay. Order {order} left our warehouse on {date}, but the "
                   "carrier has had problems around {city}. I've flagged it as urgent and it "
                   "should reach you within 24-48 hours."),
        },
        notes={
            "es": ("La agencia confirma etiqueta dañada; reetiquetado en delegación.",
                   "Abierta incidencia con la agencia de transporte, ref. INC-{n}."),
            "en": ("Carrier confirms a damaged label; relabelled at the depot.",
                   "Opened a claim with the carrier, ref. INC-{n}."),
        },
    ),
    Topic(
        "refund", "reembolso", "billing",
        subjects={
            "es": ("Solicitud de reembolso - pedido {order}", "Quiero devolver {product}",
                   "¿Cuándo recibiré el reembolso?"),
            "en": ("Refund request - order {order}", "I'd like to return the {product}",
                   "When will I get my refund?"),
        },
        bodies={
            "es": ("Devolví {product} del pedido {order} el {date} y todavía no he recibido el "
                   "reembolso de {amount}. ¿Cuánto suele tardar?",
                   "Quiero devolver {product}: no es lo que esperaba. ¿Cómo lo hago? ¿Me "
                   "devolvéis los {amount} a la misma tarjeta?"),
            "en": ("I sent back the {product} from order {order} on {date} and still haven't "
                   "seen the {amount} refund. How long does it usually take?",
                   "I'd like to return the {product}, it isn't what I expected. How do I do "
                   "that, and will the {amount} go back on the same card?"),
        },
        replies={
            "es": ("Hemos recibido la devolución del pedido {order} y el reembolso de {amount} "
                   "ya está emitido. Según tu banco, puede tardar de 3 a 5 días hábiles en "
                   "aparecer en la tarjeta terminada en {card}.",
                   "Te he enviado por correo una etiqueta de devolución prepagada. En cuanto el "
                   "paquete llegue al almacén te devolvemos {amount} al mismo método de pago."),
            "en": ("We've received the return for order {order} and the {amount} refund has "
                   "been issued. Depending on your bank it takes 3 to 5 working days to show on "
                   "the card ending {card}.",
                   "I've e-mailed you a prepaid return label. As soon as the parcel reaches our "
                   "warehouse we'll refund {amount} to the original payment method."),
        },
        notes={
            "es": ("Devolución recibida en almacén el {date}. Producto en buen estado, reembolso "
                   "aprobado.", "Reembolso de {amount} lanzado en la pasarela, ref. RF-{n}."),
            "en": ("Return received at the warehouse on {date}; item in good condition, refund "
                   "approved.", "Refund of {amount} issued in the payment gateway, ref. RF-{n}."),
        },
    ),
    Topic(
        "invoice", "factura", "billing",
        subjects={
            "es": ("Factura del pedido {order}", "Necesito factura con NIF",
                   "Error en la factura {invoice}"),
            "en": ("Invoice for order {order}", "VAT invoice needed", "Wrong details on invoice "
                   "{invoice}"),
        },
        bodies={
            "es": ("¿Me podéis enviar la factura del pedido {order}? La necesito a nombre de "
                   "{company}, NIF {taxid}.",
                   "En la factura {invoice} aparece mal la dirección fiscal. Debería ser "
                   "{street}, {city}. ¿Me la podéis rectificar?"),
            "en": ("Could you send me a VAT invoice for order {order}? It should be made out to "
                   "{company}, VAT number {taxid}.",
                   "Invoice {invoice} shows the wrong billing address; it should be {street}, "
                   "{city}. Could you reissue it?"),
        },
        replies={
            "es": ("He emitido la factura {invoice} a nombre de {company} con el NIF {taxid}. "
                   "La tienes disponible en Mi cuenta › Facturas.",
                   "He anulado la factura anterior y emitido la rectificativa {invoice} con la "
                   "dirección {street}, {city}."),
            "en": ("I've issued invoice {invoice} to {company}, VAT number {taxid}. You'll find "
                   "it under My account › Invoices.",
                   "I've cancelled the old invoice and issued corrected invoice {invoice} with "
                   "the address {street}, {city}."),
        },
        notes={
            "es": ("Rectificativa emitida; avisar a contabilidad a fin de mes.",),
            "en": ("Corrected invoice issued; flag it for accounting at month end.",),
        },
    ),
    Topic(
        "login", "acceso", "l1",
        subjects={
            "es": ("No puedo entrar en mi cuenta", "No me llega el código de verificación",
                   "Problema al restablecer la contraseña", "Cuenta bloqueada"),
            "en": ("Can't log in to my account", "Verification code never arrives",
                   "Password reset link doesn't work", "Account locked"),
        },
        bodies={
            "es": ("Desde ayer no puedo iniciar sesión: me dice «contraseña incorrecta» aunque "
                   "la he cambiado dos veces.",
                   "Intento entrar y me pide un código de verificación que nunca llega a mi "
                   "móvil acabado en {phone}.",
                   "El enlace para restablecer la contraseña me lleva a una página de error "
                   "(«enlace caducado»), y eso que lo abro al momento."),
            "en": ("Since yesterday I can't sign in: it says \"wrong password\" even though I've "
                   "reset it twice.",
                   "When I try to log in it asks for a verification code that never arrives on "
                   "my phone ending {phone}.",
                   "The password reset link takes me to an error page (\"link expired\"), even "
                   "when I open it straight away."),
        },
        replies={
            "es": ("He desbloqueado tu cuenta: se había bloqueado tras varios intentos fallidos. "
                   "Prueba a entrar ahora; si no puedes, usa «¿Has olvidado tu contraseña?», el "
                   "enlace vale 30 minutos.",
                   "El número guardado en tu cuenta tenía un dígito de más y por eso no te "
                   "llegaba el SMS. Lo he corregido; vuelve a pedir el código, por favor."),
            "en": ("I've unlocked your account: it had locked itself after several failed "
                   "attempts. Please try again now; if it still fails, use \"Forgot your "
                   "password?\", the link is valid for 30 minutes.",
                   "The phone number on your account had an extra digit, which is why the text "
                   "never arrived. I've fixed it; please request a new code."),
        },
        notes={
            "es": ("Escalo a L2: el token de 2FA parece desincronizado y desde L1 no puedo "
                   "resetearlo.",
                   "Log de accesos: 6 intentos fallidos desde {city}. El bloqueo automático "
                   "fue correcto."),
            "en": ("Escalating to L2: the 2FA token looks out of sync and L1 can't reset it.",
                   "Access log: 6 failed attempts from {city}. The automatic lock was right."),
        },
        priority=(2, 2, 3),
    ),
    Topic(
        "double_charge", "cobro-duplicado", "billing",
        subjects={
            "es": ("Me habéis cobrado dos veces", "Cargo duplicado en mi tarjeta",
                   "Doble cobro del pedido {order}"),
            "en": ("I've been charged twice", "Duplicate charge on my card",
                   "Double charge for order {order}"),
        },
        bodies={
            "es": ("En el extracto de mi tarjeta aparecen dos cargos de {amount} del {date} por "
                   "el pedido {order}. Solo hice una compra. Por favor, devolvedme uno cuanto "
                   "antes.",
                   "Me ha llegado un cargo de {amount} dos veces. ¡Es la segunda vez que me "
                   "pasa! Pedido {order}."),
            "en": ("My card statement shows two charges of {amount} on {date} for order {order}. "
                   "I only bought once. Please refund one of them as soon as possible.",
                   "I've been charged {amount} twice. This is the second time this has "
                   "happened! Order {order}."),
        },
        replies={
            "es": ("Tienes razón, y lo siento: el pago del pedido {order} se procesó dos veces "
                   "por un error de la pasarela. Ya hemos anulado el segundo cargo de {amount}; "
                   "verás la devolución en tu tarjeta terminada en {card} en 3-5 días hábiles.",),
            "en": ("You're right, and I'm sorry: the payment for order {order} went through "
                   "twice because of a gateway error. We've voided the second {amount} charge; "
                   "the refund will show on your card ending {card} within 3-5 working days.",),
        },
        notes={
            "es": ("Confirmado en la pasarela: dos cargos de {amount} con 40 s de diferencia. "
                   "Anulado el segundo.",
                   "Otro doble cobro tras un timeout del TPV; lo añado a la incidencia abierta "
                   "con el proveedor de pagos."),
            "en": ("Confirmed in the gateway: two {amount} charges 40 s apart. Voided the "
                   "second one.",
                   "Another double charge after a card terminal timeout; adding it to the open "
                   "ticket with the payment provider."),
        },
        priority=(3, 3, 4),
    ),
    Topic(
        "address_change", "dirección", "l1",
        subjects={
            "es": ("Cambiar la dirección de envío", "Dirección equivocada en el pedido {order}",
                   "¿Puedo cambiar la dirección de entrega?"),
            "en": ("Change my delivery address", "Wrong address on order {order}",
                   "Can I change the shipping address?"),
        },
        bodies={
            "es": ("Acabo de hacer el pedido {order} y me he dado cuenta de que la dirección "
                   "está mal. La correcta es {street}, {city}. ¿Llegáis a tiempo de cambiarla?",
                   "Me mudo la semana que viene; ¿podéis enviar el pedido {order} a {street}, "
                   "{city}?"),
            "en": ("I've just placed order {order} and noticed the address is wrong. It should "
                   "be {street}, {city}. Is there still time to change it?",
                   "I'm moving next week; could you send order {order} to {street}, {city} "
                   "instead?"),
        },
        replies={
            "es": ("Llegamos a tiempo: el pedido {order} aún no había salido. He cambiado la "
                   "dirección a {street}, {city}.",
                   "El pedido ya está en manos de la agencia, así que les he pedido el cambio "
                   "de dirección. Suelen confirmarlo en un día laborable."),
            "en": ("We caught it in time: order {order} hadn't shipped yet. I've changed the "
                   "address to {street}, {city}.",
                   "The parcel is already with the carrier, so I've asked them to redirect it. "
                   "They usually confirm within one working day."),
        },
        notes={
            "es": ("Cambio de dirección pedido a la agencia por su portal, ref. DIR-{n}.",),
            "en": ("Address change requested through the carrier's portal, ref. DIR-{n}.",),
        },
        priority=(2, 2, 1),
    ),
    Topic(
        "cancellation", "cancelación", "billing",
        subjects={
            "es": ("Cancelar mi suscripción", "Quiero cancelar el pedido {order}",
                   "Baja del plan {plan}"),
            "en": ("Cancel my subscription", "Please cancel order {order}",
                   "Cancelling the {plan} plan"),
        },
        bodies={
            "es": ("Quiero cancelar mi suscripción al plan {plan}. ¿Se me cobrará el mes que "
                   "viene?",
                   "Por favor, cancelad el pedido {order}; lo he encontrado en una tienda de mi "
                   "barrio."),
            "en": ("I'd like to cancel my {plan} subscription. Will I be charged next month?",
                   "Please cancel order {order}, I found it in a shop near me."),
        },
        replies={
            "es": ("He cancelado tu suscripción al plan {plan}. No se te cobrará nada más y "
                   "mantienes el acceso hasta el {date2}.",
                   "He cancelado el pedido {order} antes de que saliera del almacén. El "
                   "reembolso de {amount} ya está en marcha."),
            "en": ("I've cancelled your {plan} subscription. You won't be charged again and "
                   "you keep access until {date2}.",
                   "I've cancelled order {order} before it left the warehouse. The {amount} "
                   "refund is on its way."),
        },
        notes={
            "es": ("Ofrecido un 20 % en la renovación; prefiere darse de baja.",),
            "en": ("Offered 20% off the renewal; they still prefer to cancel.",),
        },
    ),
    Topic(
        "damaged", "devolución", "l1",
        subjects={
            "es": ("{product} llegó roto", "Producto defectuoso", "El producto no funciona"),
            "en": ("The {product} arrived broken", "Faulty item", "Product doesn't work"),
        },
        bodies={
            "es": ("Me ha llegado {product} con la caja aplastada y no enciende. Os puedo "
                   "mandar fotos si las necesitáis.",
                   "{product} funcionó dos días y ahora hace un ruido raro. Pedido {order}."),
            "en": ("The {product} arrived with a crushed box and won't switch on. I can send "
                   "photos if you need them.",
                   "The {product} worked for two days and now makes a strange noise. Order "
                   "{order}."),
        },
        replies={
            "es": ("Lo siento mucho. Te enviamos uno nuevo hoy mismo sin coste; el repartidor "
                   "recogerá el defectuoso en la misma entrega. Seguimiento: {tracking}.",),
            "en": ("I'm so sorry. We're sending a replacement today at no cost, and the courier "
                   "will collect the faulty one on the same visit. Tracking: {tracking}.",),
        },
        notes={
            "es": ("Tercer caso este mes con este modelo; aviso a compras.",),
            "en": ("Third case this month with this model; letting purchasing know.",),
        },
    ),
    Topic(
        "discount", "promoción", "l1",
        subjects={
            "es": ("El código de descuento no funciona", "Cupón {coupon} no válido",
                   "Me olvidé de aplicar el descuento"),
            "en": ("Discount code not working", "Coupon {coupon} rejected",
                   "Forgot to apply my discount"),
        },
        bodies={
            "es": ("Intento usar el código {coupon} que me llegó por correo y me dice «cupón no "
                   "válido». Caduca el {date2}.",
                   "Hice el pedido {order} y olvidé aplicar el código {coupon}. ¿Me podéis "
                   "devolver la diferencia?"),
            "en": ("I'm trying to use the code {coupon} from your newsletter and it says "
                   "\"invalid coupon\". It's valid until {date2}.",
                   "I placed order {order} and forgot to apply {coupon}. Could you refund the "
                   "difference?"),
        },
        replies={
            "es": ("El código {coupon} solo vale para pedidos de más de 50 €, por eso no se "
                   "aplicaba. Como gesto, te he aplicado el descuento en el pedido {order}: te "
                   "devolvemos {amount}.",),
            "en": ("The code {coupon} only applies to orders over $50, which is why it was "
                   "rejected. As a goodwill gesture I've applied it to order {order}: we're "
                   "refunding {amount}.",),
        },
        notes={"es": ("Gesto comercial aprobado por Carla.",),
               "en": ("Goodwill refund approved by Carla.",)},
        priority=(1, 2, 2),
    ),
)

GREETINGS = {"es": ("Hola,", "Buenos días,", "Buenas tardes,", "Hola, buenas.",
                    "Estimados señores:"),
             "en": ("Hi,", "Hello,", "Hi there,", "Good morning,", "Dear support team,")}
SIGN_OFFS = {"es": ("Gracias.", "Muchas gracias de antemano.", "Un saludo,", "Quedo a la espera.",
                    "Saludos cordiales,"),
             "en": ("Thanks,", "Thanks in advance,", "Best,", "Kind regards,", "Cheers,")}
REPLY_OPENING = {"es": "Hola {first}:", "en": "Hi {first},"}
REPLY_SIGNATURE = {"es": "Un saludo,\n{agent}\nAtención al cliente · " + SHOP,
                   "en": "Best regards,\n{agent}\nCustomer care · " + SHOP}
ASK_DETAILS = {
    "es": "Gracias por escribirnos. Para poder ayudarte, ¿me confirmas el número de pedido y el "
          "correo con el que hiciste la compra?",
    "en": "Thanks for getting in touch. So I can help, could you confirm the order number and "
          "the e-mail address you used to buy?",
}
ON_HOLD_REPLY = {
    "es": "He pasado tu caso a un compañero especialista, que ya lo está revisando. En cuanto "
          "tengamos respuesta te escribo; puede tardar uno o dos días.",
    "en": "I've passed your case to a specialist colleague who is looking into it now. I'll "
          "write as soon as we hear back; it may take a day or two.",
}
THANKS_REPLY = {
    "es": "¡Gracias a ti, {first}! Me alegro de que esté resuelto. Si necesitas algo más, "
          "responde a este correo.",
    "en": "Thanks, {first}! Glad it's sorted. If you need anything else, just reply to this "
          "e-mail.",
}
CUSTOMER_DETAILS = {
    "es": ("Claro: el pedido es el {order} y compré con este mismo correo.",
           "Es el {order}. Lo pagué con la tarjeta terminada en {card}."),
    "en": ("Sure: it's order {order}, bought with this same e-mail address.",
           "It's {order}. I paid with the card ending {card}."),
}
CUSTOMER_THANKS = {
    "es": ("¡Perfecto, muchas gracias! Ya está solucionado.",
           "Genial, ya me ha llegado. Gracias por la rapidez.", "Todo correcto ahora. Un saludo.",
           "Confirmado, ya funciona. ¡Gracias!"),
    "en": ("Perfect, thank you so much! All sorted.", "Great, it arrived today. Thanks for the "
           "quick help.", "All good now, cheers.", "Confirmed, it works now. Thanks!"),
}
CUSTOMER_STILL = {
    "es": ("Sigue sin funcionar, lo he vuelto a probar esta mañana.",
           "Hoy tampoco ha llegado nada. ¿Podéis llamar a la agencia?",
           "Perdonad la insistencia, pero ¿hay alguna novedad?"),
    "en": ("Still not working, I tried again this morning.",
           "Nothing arrived today either. Could you call the carrier?",
           "Sorry to chase, but is there any news?"),
}
CUSTOMER_NUDGE = {
    "es": ("¿Alguna novedad? Os escribí hace un par de días.",
           "Os vuelvo a escribir por si no os llegó mi correo anterior."),
    "en": ("Any news? I wrote a couple of days ago.",
           "Writing again in case my previous e-mail didn't reach you."),
}
QUOTE_HEADER = {"es": "El {date}, {shop} <{address}> escribió:",
                "en": "On {date}, {shop} <{address}> wrote:"}
MONTHS = {"es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                 "septiembre", "octubre", "noviembre", "diciembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December")}

PRODUCTS = {"es": ("los auriculares inalámbricos", "la cafetera de goteo",
                   "la mochila de senderismo", "la lámpara de escritorio",
                   "las zapatillas de running", "la funda para portátil", "la batidora de vaso",
                   "el reloj deportivo", "la freidora de aire", "el altavoz bluetooth"),
            "en": ("wireless headphones", "drip coffee maker", "hiking backpack", "desk lamp",
                   "running shoes", "laptop sleeve", "blender", "sports watch", "air fryer",
                   "bluetooth speaker")}
CITIES = {"es": ("Madrid", "Sevilla", "Valencia", "Bilbao", "Zaragoza", "Málaga", "A Coruña",
                 "Valladolid", "Ciudad de México", "Bogotá", "Buenos Aires"),
          "en": ("London", "Manchester", "Dublin", "Bristol", "Boston", "Austin", "Toronto",
                 "Chicago")}
STREETS = {"es": ("Calle Mayor 12, 3.º B", "Avenida de la Constitución 45",
                  "Paseo de Gracia 88, 2.º 1.ª", "Calle Alcalá 210", "Plaza del Pilar 3",
                  "Calle San Fernando 7, bajo"),
           "en": ("14 Baker Street", "221 Elm Avenue, Apt 3", "7 Harbour Road",
                  "58 Kingsway, Flat 2", "1200 Lakeshore Drive")}
PLANS = {"es": ("Básico", "Pro", "Empresa"), "en": ("Basic", "Pro", "Business")}
COUPONS = ("BIENVENIDA10", "VERANO15", "WELCOME10", "SPRING15", "VIP20", "ENVIOGRATIS")

FIRST_NAMES = {
    "es": ("Javier", "Lucía", "Carmen", "Pablo", "Marta", "Sergio", "Laura", "Álvaro", "Nuria",
           "Jorge", "Inés", "Raúl", "Beatriz", "Andrés", "Rocío", "Iñigo", "Paula", "Tomás",
           "Sofía", "Mateo", "Valentina", "Camila", "Santiago", "Ximena", "José Luis",
           "María José"),
    "en": ("Emily", "James", "Olivia", "Michael", "Sarah", "David", "Grace", "Daniel", "Chloe",
           "Ryan", "Hannah", "Liam", "Megan", "Ethan", "Zoe", "Noah", "Abigail", "Owen", "Ruby"),
}
LAST_NAMES = {
    "es": ("García", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz", "Moreno",
           "Muñoz", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
           "Gil", "Serrano", "Castillo", "Ortega", "Núñez", "Peña", "Iglesias", "Herrera"),
    "en": ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas",
           "Walker", "Wright", "Clarke", "Hughes", "Green", "Hall", "Turner", "Murphy",
           "O'Brien", "Kelly", "Foster"),
}
PERSONAL_DOMAINS = {"es": ("correo.example", "buzon.example", "email.example"),
                    "en": ("mail.example", "inbox.example", "post.example")}
ZONES = {"es": ("Europe/Madrid",) * 6 + ("Atlantic/Canary", "America/Mexico_City",
                                         "America/Bogota", "America/Argentina/Buenos_Aires"),
         "en": ("Europe/London", "Europe/London", "Europe/Dublin", "America/New_York",
                "America/Chicago", "America/Toronto")}
ORGANISATIONS = (
    ("Ferretería Ortega S.L.", "ferreteria-ortega.example", "es"),
    ("Clínica Dental Sonrisa", "clinicasonrisa.example", "es"),
    ("Librería El Ateneo", "elateneo.example", "es"),
    ("Estudio Nómada Arquitectura", "estudionomada.example", "es"),
    ("Bodegas Valdelosa", "valdelosa.example", "es"),
    ("Academia Kairós", "kairos-academia.example", "es"),
    ("Bluebird Design Ltd", "bluebird-design.example", "en"),
    ("Northgate Dental", "northgate-dental.example", "en"),
    ("Harbour & Pine Cafés", "harbourpine.example", "en"),
    ("Copperleaf Consulting", "copperleaf.example", "en"),
    ("Tidewater Books", "tidewaterbooks.example", "en"),
    ("Summit Outdoor Co.", "summit-outdoor.example", "en"),
)
