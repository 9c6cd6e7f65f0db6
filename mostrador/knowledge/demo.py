"""The demo desk's knowledge base: the help center of Mercado Sol, the online shop whose
customers write to the demo desk.

Ten topics, each written in Spanish and in English and linked as translations, in four
categories, all published and public. The facts agree with what the demo agents answer in the
seeded conversations (refunds show in 3 to 5 working days, the password link lasts 30
minutes, a carrier confirms an address change within a working day…), so the answer bot and
the help center quote the same shop the inbox shows.

Written through the knowledge actions, like an author would: ``do_create_category``,
``do_create_article`` (the English one ``translation_of`` the Spanish one) and
``do_publish_article``. Seeding again does nothing once the first demo article exists.
"""

from __future__ import annotations

import dataclasses

from django.db import transaction

from mostrador.knowledge.actions import do_create_article, do_create_category, do_publish_article
from mostrador.knowledge.models import Article, Category


@dataclasses.dataclass(frozen=True)
class DemoArticle:
    key: str
    category: str
    title: dict[str, str]
    body: dict[str, str]


# key → (Spanish name, English name)
CATEGORIES = {
    "orders": ("Pedidos y envíos", "Orders and delivery"),
    "returns": ("Devoluciones y garantía", "Returns and warranty"),
    "payments": ("Pagos y facturas", "Payments and invoices"),
    "account": ("Cuenta y contacto", "Account and contact"),
}

ARTICLES = (
    DemoArticle(
        "shipping-times", "orders",
        title={"es": "Plazos y gastos de envío",
               "en": "Delivery times and shipping costs"},
        body={
            "es": """
<p>Preparamos los pedidos en nuestro almacén de Zaragoza. Los pedidos confirmados antes de las
14:00 (hora peninsular) de lunes a viernes salen el mismo día; los que llegan más tarde, en fin
de semana o en festivo salen el siguiente día laborable.</p>
<h2>¿Cuánto tarda en llegar?</h2>
<ul>
<li><strong>Península:</strong> de 24 a 48 horas laborables desde que el pedido sale del
almacén.</li>
<li><strong>Baleares:</strong> de 3 a 4 días laborables.</li>
<li><strong>Canarias, Ceuta y Melilla:</strong> de 5 a 7 días laborables; el paso por aduana puede
añadir uno o dos días.</li>
<li><strong>Resto de la Unión Europea:</strong> de 3 a 6 días laborables.</li>
</ul>
<p>En campañas con mucho volumen (Black Friday, Navidad, rebajas) los plazos pueden alargarse uno o
dos días. Te avisamos por correo electrónico en cuanto el pedido sale, con su número de
seguimiento.</p>
<h2>¿Cuánto cuesta el envío?</h2>
<p>El envío estándar cuesta 4,95 € y es <strong>gratis en pedidos de más de 50 €</strong>. El envío
urgente (entrega al día siguiente en la península si pides antes de las 14:00) cuesta 7,95 €.
Los gastos de envío se muestran en la cesta antes de pagar.</p>
<h2>Mi pedido se está retrasando</h2>
<p>Si han pasado tres días laborables desde la fecha prevista y el pedido no ha llegado, envíanos
una solicitud con el número de pedido (empieza por MS-). Revisamos el envío con la agencia de
transporte y, si el paquete se ha perdido, te enviamos otro sin coste.</p>
""",
            "en": """
<p>We pack orders at our warehouse in Zaragoza, Spain. Orders confirmed before 2 pm (Madrid time),
Monday to Friday, leave the same day; orders placed later, at the weekend or on a public holiday
leave on the next working day.</p>
<h2>How long does delivery take?</h2>
<ul>
<li><strong>Mainland Spain:</strong> 24 to 48 working hours after the order leaves the
warehouse.</li>
<li><strong>Balearic Islands:</strong> 3 to 4 working days.</li>
<li><strong>Canary Islands, Ceuta and Melilla:</strong> 5 to 7 working days; customs can add one
or two days.</li>
<li><strong>Rest of the European Union:</strong> 3 to 6 working days.</li>
</ul>
<p>During busy periods (Black Friday, Christmas, the sales) delivery can take one or two days
longer. We e-mail you as soon as your order ships, with its tracking number.</p>
<h2>How much is shipping?</h2>
<p>Standard shipping costs €4.95 and is <strong>free on orders over €50</strong>. Express shipping
(next-day delivery in mainland Spain when you order before 2 pm) costs €7.95. You see the
shipping cost in your basket before you pay.</p>
<h2>My order is late</h2>
<p>If three working days have passed since the expected date and your order has not arrived,
send us a request with your order number (it starts with MS-). We check the parcel with the
carrier and, if it has been lost, we send you a new one free of charge.</p>
""",
        },
    ),
    DemoArticle(
        "tracking", "orders",
        title={"es": "Seguir mi pedido", "en": "Tracking your order"},
        body={
            "es": """
<p>Cuando tu pedido sale del almacén te enviamos un correo electrónico con el número de
seguimiento y un enlace a la web de la agencia de transporte. También puedes verlo en
<strong>Mi cuenta › Pedidos</strong>, pulsando sobre el pedido.</p>
<h2>Qué significa cada estado</h2>
<ul>
<li><strong>Preparando:</strong> hemos recibido el pago y estamos preparando el paquete. Todavía
puedes cambiar la dirección o cancelar el pedido.</li>
<li><strong>Enviado:</strong> el paquete está en manos de la agencia de transporte.</li>
<li><strong>En reparto:</strong> el repartidor lo lleva hoy a tu dirección.</li>
<li><strong>Entregado:</strong> la agencia ha registrado la entrega.</li>
</ul>
<h2>El seguimiento no se actualiza</h2>
<p>Es normal que el número de seguimiento no muestre información durante las primeras 24 horas:
la agencia registra el paquete cuando lo escanea en su primera delegación. Si después de dos días
laborables sigue sin datos, o si el pedido lleva más de dos días «en reparto», escríbenos con el
número de pedido y lo reclamamos a la agencia.</p>
<h2>Pone «entregado» pero no lo tengo</h2>
<p>Pregunta primero a tus vecinos o en la conserjería, y revisa si hay un aviso de la agencia en
el buzón. Si no aparece en 24 horas, envíanos una solicitud: abrimos una investigación con la
agencia y, si el paquete no aparece, te enviamos otro o te devolvemos el importe.</p>
""",
            "en": """
<p>When your order leaves the warehouse we e-mail you the tracking number and a link to the
carrier's website. You can also see it under <strong>My account › Orders</strong> by opening the
order.</p>
<h2>What each status means</h2>
<ul>
<li><strong>Preparing:</strong> we have your payment and are packing the parcel. You can still
change the address or cancel the order.</li>
<li><strong>Shipped:</strong> the parcel is with the carrier.</li>
<li><strong>Out for delivery:</strong> the courier is bringing it to your address today.</li>
<li><strong>Delivered:</strong> the carrier has recorded the delivery.</li>
</ul>
<h2>Tracking does not update</h2>
<p>It is normal for a tracking number to show nothing for the first 24 hours: the carrier records
the parcel when it is first scanned at their depot. If there is still no information after two
working days, or the order has been "out for delivery" for more than two days, write to us with
the order number and we will chase the carrier.</p>
<h2>It says "delivered" but I don't have it</h2>
<p>First ask your neighbours or the building's concierge, and check your letterbox for a note from
the carrier. If it does not turn up within 24 hours, send us a request: we open an investigation
with the carrier and, if the parcel is not found, we send you another one or refund you.</p>
""",
        },
    ),
    DemoArticle(
        "change-address", "orders",
        title={"es": "Cambiar la dirección de entrega de un pedido",
               "en": "Changing the delivery address of an order"},
        body={
            "es": """
<p>Puedes cambiar la dirección de entrega tú mismo mientras el pedido esté en estado
<strong>Preparando</strong>:</p>
<ol>
<li>Entra en <strong>Mi cuenta › Pedidos</strong> y abre el pedido.</li>
<li>Pulsa <strong>Cambiar dirección</strong>.</li>
<li>Elige una de tus direcciones guardadas o escribe una nueva, y pulsa
<strong>Guardar</strong>.</li>
</ol>
<p>Recibirás un correo electrónico de confirmación con la nueva dirección.</p>
<h2>Si el pedido ya ha salido</h2>
<p>Cuando el pedido ya está en manos de la agencia de transporte, el botón desaparece. Envíanos
una solicitud con el número de pedido y la dirección correcta y pediremos a la agencia que lo
desvíe; normalmente lo confirman en un día laborable. El desvío solo es posible dentro del mismo
país y no se puede hacer si el envío va a un punto de recogida.</p>
<p>Para pedidos futuros, revisa tus direcciones en <strong>Mi cuenta › Direcciones</strong> y marca
la que quieras usar por defecto.</p>
""",
            "en": """
<p>You can change the delivery address yourself while the order's status is
<strong>Preparing</strong>:</p>
<ol>
<li>Go to <strong>My account › Orders</strong> and open the order.</li>
<li>Press <strong>Change address</strong>.</li>
<li>Pick one of your saved addresses or type a new one, then press <strong>Save</strong>.</li>
</ol>
<p>You will get a confirmation e-mail with the new address.</p>
<h2>If the order has already shipped</h2>
<p>Once the parcel is with the carrier the button disappears. Send us a request with the order
number and the right address and we will ask the carrier to redirect it; they usually confirm
within one working day. A parcel can only be redirected within the same country, and not when it
is going to a pickup point.</p>
<p>For future orders, check your addresses under <strong>My account › Addresses</strong> and mark
the one you want to use by default.</p>
""",
        },
    ),
    DemoArticle(
        "cancel-order", "orders",
        title={"es": "Cancelar un pedido o una suscripción",
               "en": "Cancelling an order or a subscription"},
        body={
            "es": """
<h2>Cancelar un pedido</h2>
<p>Mientras el pedido esté en estado <strong>Preparando</strong> puedes cancelarlo desde
<strong>Mi cuenta › Pedidos</strong>, abriendo el pedido y pulsando <strong>Cancelar
pedido</strong>.
La devolución del importe se lanza en ese momento al mismo medio de pago y, según tu banco, tarda
de 3 a 5 días laborables en aparecer.</p>
<p>Si el pedido ya ha salido del almacén no se puede cancelar, pero puedes rechazar la entrega
cuando llegue el repartidor o devolverlo gratis en los 30 días siguientes a la entrega (consulta
el artículo sobre devoluciones y reembolsos). En cuanto el paquete vuelva al almacén te
devolvemos el dinero.</p>
<h2>Cancelar una suscripción</h2>
<p>Las suscripciones (planes Básico, Pro y Empresa) se cancelan en <strong>Mi cuenta ›
Suscripción › Cancelar suscripción</strong>. No se te vuelve a cobrar y mantienes el acceso hasta el
final del periodo que ya has pagado. Puedes volver a suscribirte cuando quieras.</p>
""",
            "en": """
<h2>Cancelling an order</h2>
<p>While the order's status is <strong>Preparing</strong> you can cancel it under <strong>My
account › Orders</strong>: open the order and press <strong>Cancel order</strong>. The refund is
issued at once to the same payment method and, depending on your bank, takes 3 to 5 working days
to show.</p>
<p>Once the order has left the warehouse it can no longer be cancelled, but you can refuse the
delivery when the courier arrives, or return it free of charge within 30 days of delivery (see
the article on returns and refunds). We refund you as soon as the parcel is back at the
warehouse.</p>
<h2>Cancelling a subscription</h2>
<p>Subscriptions (the Basic, Pro and Business plans) are cancelled under <strong>My account ›
Subscription › Cancel subscription</strong>. You are not charged again and you keep access until
the end of the period you have already paid for. You can subscribe again at any time.</p>
""",
        },
    ),
    DemoArticle(
        "returns", "returns",
        title={"es": "Devoluciones y reembolsos", "en": "Returns and refunds"},
        body={
            "es": """
<p>Tienes <strong>30 días desde la entrega</strong> para devolver cualquier producto sin dar
explicaciones, siempre que esté sin usar y en su embalaje original. La devolución es gratuita
desde la península; desde Baleares, Canarias, Ceuta y Melilla te enviamos una recogida a
domicilio.</p>
<h2>Cómo hacer una devolución</h2>
<ol>
<li>Entra en <strong>Mi cuenta › Pedidos</strong>, abre el pedido y pulsa <strong>Devolver
productos</strong>.</li>
<li>Marca los productos que quieres devolver y el motivo.</li>
<li>Descarga e imprime la etiqueta de devolución prepagada que te enviamos por correo
electrónico.</li>
<li>Pega la etiqueta en el paquete y llévalo a cualquier oficina de Correos o punto de recogida en
los 7 días siguientes.</li>
</ol>
<h2>Cuándo recibo el reembolso</h2>
<p>Revisamos el paquete cuando llega a nuestro almacén, normalmente en 2 o 3 días laborables
desde que lo entregas. Después emitimos el reembolso al mismo medio de pago con el que
pagaste; según tu banco, tarda de <strong>3 a 5 días laborables</strong> en aparecer en tu cuenta
o tarjeta. Te avisamos por correo electrónico en cuanto lo emitimos.</p>
<h2>Productos que no se pueden devolver</h2>
<p>No admitimos la devolución de productos personalizados, de productos de higiene o cuidado
personal que se hayan abierto, ni de tarjetas regalo. Si un producto ha llegado roto o
defectuoso, no uses el formulario de devolución: consulta el artículo sobre la garantía y te lo
cambiamos.</p>
""",
            "en": """
<p>You have <strong>30 days from delivery</strong> to return any product without giving a
reason, as long as it is unused and in its original packaging. Returns are free from mainland
Spain; from the Balearic and Canary Islands, Ceuta and Melilla we send a courier to collect it.</p>
<h2>How to return an item</h2>
<ol>
<li>Go to <strong>My account › Orders</strong>, open the order and press <strong>Return
items</strong>.</li>
<li>Tick the items you are returning and tell us why.</li>
<li>Download and print the prepaid return label we e-mail you.</li>
<li>Stick the label on the parcel and take it to any post office or pickup point within 7 days.</li>
</ol>
<h2>When will I get my refund?</h2>
<p>We check the parcel when it reaches our warehouse, usually 2 or 3 working days after you drop
it off. Then we refund you to the payment method you paid with; depending on your bank, it takes
<strong>3 to 5 working days</strong> to show in your account or on your card. We e-mail you as soon
as the refund is issued.</p>
<h2>Items that cannot be returned</h2>
<p>We cannot take back personalised items, opened hygiene or personal-care products, or gift
cards. If an item arrived broken or faulty, do not use the return form: see the article on the
warranty and we will replace it.</p>
""",
        },
    ),
    DemoArticle(
        "warranty", "returns",
        title={"es": "Garantía y productos que llegan rotos o defectuosos",
               "en": "Warranty, and items that arrive broken or faulty"},
        body={
            "es": """
<p>Todos los productos nuevos que vendemos tienen una <strong>garantía legal de 3 años</strong>
desde la entrega. Cubre los defectos de fabricación y los fallos de funcionamiento que no se
deban a un mal uso; no cubre el desgaste normal, los golpes ni los daños por líquidos.</p>
<h2>Si el producto llega roto</h2>
<p>Avísanos en las 48 horas siguientes a la entrega desde <strong>Mi cuenta › Pedidos ›
Informar de un problema</strong>, con una o dos fotos del producto y de la caja. Te enviamos uno
nuevo sin coste y el repartidor recoge el defectuoso en la misma entrega; no hace falta que
esperes a que nos llegue.</p>
<h2>Si deja de funcionar más adelante</h2>
<ol>
<li>Entra en <strong>Mi cuenta › Pedidos</strong>, abre el pedido y pulsa <strong>Informar de un
problema</strong>.</li>
<li>Describe el fallo y, si puedes, añade una foto o un vídeo corto.</li>
<li>Te enviamos una etiqueta para mandarnos el producto sin coste.</li>
</ol>
<p>Lo revisa el servicio técnico del fabricante y, según el caso, lo reparamos o te enviamos
uno nuevo. Si no es posible ni una cosa ni la otra, te devolvemos el importe. Guarda la factura:
es tu justificante de la garantía, y siempre la tienes en <strong>Mi cuenta › Facturas</strong>.</p>
""",
            "en": """
<p>Every new product we sell has a <strong>3-year legal warranty</strong> from delivery. It covers
manufacturing defects and faults that are not caused by misuse; it does not cover normal wear and
tear, knocks or liquid damage.</p>
<h2>If the item arrives broken</h2>
<p>Let us know within 48 hours of delivery under <strong>My account › Orders › Report a
problem</strong>, with one or two photos of the item and the box. We send you a replacement free
of charge and the courier collects the faulty one on the same visit; you do not have to wait
for it to reach us.</p>
<h2>If it stops working later</h2>
<ol>
<li>Go to <strong>My account › Orders</strong>, open the order and press <strong>Report a
problem</strong>.</li>
<li>Describe the fault and, if you can, add a photo or a short video.</li>
<li>We send you a label to post the item to us free of charge.</li>
</ol>
<p>The manufacturer's service centre checks it and, depending on what they find, we repair it or
send you a new one. If neither is possible, we refund you. Keep the invoice: it is your proof of
warranty, and you can always find it under <strong>My account › Invoices</strong>.</p>
""",
        },
    ),
    DemoArticle(
        "payments", "payments",
        title={"es": "Formas de pago y cobros duplicados",
               "en": "Payment methods and double charges"},
        body={
            "es": """
<p>Puedes pagar con tarjeta (Visa, Mastercard y American Express), con PayPal y con Bizum. Las
empresas con cuenta de cliente también pueden pagar por transferencia bancaria: el pedido sale
cuando recibimos la transferencia, normalmente en uno o dos días laborables.</p>
<p>El cargo se hace en el momento de confirmar el pedido. Todos los pagos con tarjeta pasan por
la verificación de tu banco (3-D Secure), así que puede que tengas que confirmar la compra en la
aplicación del banco o con un código por SMS.</p>
<h2>Me aparecen dos cargos</h2>
<p>Si un pago falla y lo vuelves a intentar, tu banco puede mostrar durante unos días una
<strong>retención</strong> del intento fallido. No es un cobro: desaparece sola en un plazo de 5 a 7
días y no llega a cargarse.</p>
<p>Si ves dos cargos ya cobrados por el mismo pedido, envíanos una solicitud con el número de
pedido y, si puedes, una captura del extracto. Lo comprobamos en la pasarela de pago, anulamos
el cargo duplicado y te avisamos por correo electrónico. La devolución aparece en tu tarjeta en
<strong>3 a 5 días laborables</strong>.</p>
<h2>Mi pago ha sido rechazado</h2>
<p>Comprueba que los datos de la tarjeta y la fecha de caducidad son correctos y que la tarjeta
permite compras por internet. Si el banco rechaza el pago sin motivo aparente, prueba con otra
forma de pago o llama a tu banco: nosotros no vemos el motivo del rechazo.</p>
""",
            "en": """
<p>You can pay by card (Visa, Mastercard and American Express), with PayPal or with Bizum.
Companies with a customer account can also pay by bank transfer: the order ships when the
transfer reaches us, usually within one or two working days.</p>
<p>Your card is charged when you confirm the order. Every card payment goes through your bank's
verification (3-D Secure), so you may need to approve the purchase in your banking app or with a
code sent by text message.</p>
<h2>I can see two charges</h2>
<p>If a payment fails and you try again, your bank may show a <strong>hold</strong> for the failed
attempt for a few days. It is not a charge: it disappears on its own within 5 to 7 days and is
never taken from your account.</p>
<p>If you see two completed charges for the same order, send us a request with the order number
and, if you can, a screenshot of your statement. We check the payment gateway, void the duplicate
charge and e-mail you. The refund shows on your card within <strong>3 to 5 working
days</strong>.</p>
<h2>My payment was declined</h2>
<p>Check that the card details and the expiry date are right and that the card allows online
purchases. If your bank declines the payment for no clear reason, try another payment method or
call your bank: we cannot see why a payment was declined.</p>
""",
        },
    ),
    DemoArticle(
        "invoices", "payments",
        title={"es": "Facturas: descargarlas, pedirlas con NIF y corregirlas",
               "en": "Invoices: downloading, adding VAT details, corrections"},
        body={
            "es": """
<p>Cada pedido tiene su factura en PDF en <strong>Mi cuenta › Facturas</strong>, disponible en
cuanto el pedido sale del almacén. También te la adjuntamos en el correo de envío.</p>
<h2>Factura a nombre de una empresa o con NIF</h2>
<p>Si necesitas la factura a nombre de una empresa o de un autónomo, añade la razón social, el NIF
y la dirección fiscal en <strong>Mi cuenta › Datos de facturación</strong> antes de hacer el
pedido; todas las facturas siguientes saldrán con esos datos.</p>
<p>Si ya has hecho el pedido, envíanos una solicitud con el número de pedido, la razón social, el
NIF y la dirección fiscal, y emitimos la factura con esos datos. Podemos hacerlo hasta el 31 de
diciembre del año de la compra.</p>
<h2>Hay un error en mi factura</h2>
<p>Una factura emitida no se puede modificar: la anulamos y emitimos una <strong>factura
rectificativa</strong> con los datos correctos. Escríbenos con el número de factura (empieza por
F-) y qué hay que corregir; la tendrás en <strong>Mi cuenta › Facturas</strong>, normalmente en un
día laborable.</p>
""",
            "en": """
<p>Every order has a PDF invoice under <strong>My account › Invoices</strong>, available as soon
as the order leaves the warehouse. We also attach it to the shipping e-mail.</p>
<h2>An invoice for a company, with a VAT number</h2>
<p>If you need the invoice made out to a company or a self-employed person, add the company name,
the VAT number and the billing address under <strong>My account › Billing details</strong> before
you order; every invoice after that carries those details.</p>
<p>If you have already ordered, send us a request with the order number, the company name, the
VAT number and the billing address, and we issue the invoice with those details. We can do this
until 31 December of the year of purchase.</p>
<h2>There is a mistake on my invoice</h2>
<p>An issued invoice cannot be edited: we cancel it and issue a <strong>corrected invoice</strong>
with the right details. Write to us with the invoice number (it starts with F-) and what needs
correcting; you will find the new one under <strong>My account › Invoices</strong>, usually within
one working day.</p>
""",
        },
    ),
    DemoArticle(
        "password", "account",
        title={"es": "No puedo entrar en mi cuenta: contraseña y código de verificación",
               "en": "I can't log in: password and verification code"},
        body={
            "es": """
<h2>He olvidado mi contraseña</h2>
<ol>
<li>En la página de inicio de sesión, pulsa <strong>¿Has olvidado tu contraseña?</strong>.</li>
<li>Escribe el correo electrónico de tu cuenta y pulsa <strong>Enviar enlace</strong>.</li>
<li>Abre el correo que te enviamos y pulsa el enlace. Es válido durante <strong>30
minutos</strong> y solo se puede usar una vez.</li>
<li>Elige una contraseña nueva de al menos 8 caracteres.</li>
</ol>
<p>Si el correo no llega en unos minutos, mira en la carpeta de correo no deseado o de
promociones. Si el enlace dice «enlace caducado», pide uno nuevo: cada enlace nuevo anula los
anteriores, así que usa siempre el último que recibas.</p>
<h2>Mi cuenta está bloqueada</h2>
<p>Por seguridad, la cuenta se bloquea durante 15 minutos después de 5 intentos fallidos de inicio
de sesión. Espera ese tiempo y vuelve a intentarlo, o restablece la contraseña con los pasos de
arriba, que desbloquea la cuenta al momento.</p>
<h2>No me llega el código de verificación</h2>
<p>Si tienes activada la verificación en dos pasos, te enviamos un código por SMS al móvil de tu
cuenta; el código vale 10 minutos. Comprueba que tienes cobertura y espera un minuto antes de
pedir otro. Si has cambiado de número y no puedes recibir el código, envíanos una solicitud desde
el correo electrónico de tu cuenta y te ayudamos a actualizarlo.</p>
""",
            "en": """
<h2>I forgot my password</h2>
<ol>
<li>On the sign-in page, press <strong>Forgot your password?</strong>.</li>
<li>Type your account's e-mail address and press <strong>Send link</strong>.</li>
<li>Open the e-mail we send you and click the link. It is valid for <strong>30 minutes</strong>
and works only once.</li>
<li>Choose a new password of at least 8 characters.</li>
</ol>
<p>If the e-mail does not arrive within a few minutes, look in your spam or promotions folder. If
the link says "link expired", ask for a new one: each new link cancels the earlier ones, so always
use the latest you received.</p>
<h2>My account is locked</h2>
<p>For your security, an account locks for 15 minutes after 5 failed sign-in attempts. Wait that
long and try again, or reset your password with the steps above, which unlocks the account at
once.</p>
<h2>The verification code never arrives</h2>
<p>If you have turned on two-step verification, we text a code to your account's mobile number;
the code is valid for 10 minutes. Check that you have signal and wait a minute before asking for
another one. If you have changed your number and cannot receive the code, send us a request from
your account's e-mail address and we will help you update it.</p>
""",
        },
    ),
    DemoArticle(
        "contact", "account",
        title={"es": "Horario de atención y cómo contactar con nosotros",
               "en": "Opening hours and how to contact us"},
        body={
            "es": """
<p>Nuestro equipo de atención al cliente abre de <strong>lunes a viernes de 9:00 a 20:00</strong>
y los <strong>sábados de 10:00 a 14:00</strong> (hora peninsular). Los domingos y los festivos
nacionales está cerrado.</p>
<h2>Cómo contactar</h2>
<p>La forma más rápida es enviarnos una solicitud desde este centro de ayuda: mientras la
escribes te mostramos los artículos que pueden resolver tu duda al momento. También puedes
escribirnos a soporte@mercadosol.example. Contestamos por correo electrónico y, si respondes a
nuestro correo, tu mensaje se añade a la misma consulta.</p>
<h2>Cuánto tardamos en responder</h2>
<p>Respondemos en menos de un día laborable, y casi siempre el mismo día. Las consultas sobre
cobros duplicados y pedidos que no han llegado tienen prioridad. Si nos escribes fuera del
horario, te respondemos en cuanto abramos.</p>
<p>Para que podamos ayudarte antes, incluye el número de pedido (empieza por MS-) y, si es un
problema con un producto, una foto.</p>
""",
            "en": """
<p>Our customer care team is open <strong>Monday to Friday from 9 am to 8 pm</strong>, and on
<strong>Saturdays from 10 am to 2 pm</strong> (Madrid time). We are closed on Sundays and on
national public holidays.</p>
<h2>How to contact us</h2>
<p>The quickest way is to send us a request from this help center: while you type it, we show you
articles that may answer your question straight away. You can also e-mail
support@mercadosol.example. We answer by e-mail and, if you reply to our e-mail, your message is
added to the same request.</p>
<h2>How soon we answer</h2>
<p>We answer within one working day, and almost always on the same day. Questions about double
charges and orders that have not arrived go first. If you write outside our opening hours, we
answer as soon as we open.</p>
<p>To help us help you sooner, include your order number (it starts with MS-) and, for a problem
with an item, a photo.</p>
""",
        },
    ),
)


@transaction.atomic
def seed_demo_articles(*, acting_user=None) -> list[Article]:
    """Create, link and publish the demo articles (Spanish first, English as its translation);
    nothing when they are already there. ``acting_user`` (a supervisor, or None for the system)
    is their author and publisher."""
    if Article.objects.filter(external_id__startswith="demo-").exists():
        return []
    categories: dict[str, Category] = {}
    for position, (key, (spanish, english)) in enumerate(CATEGORIES.items()):
        categories[key] = do_create_category(
            spanish, position=position, name_translations={"es": spanish, "en": english},
            acting_user=acting_user)
    made: list[Article] = []
    for spec in ARTICLES:
        original = None
        for language in ("es", "en"):
            article = do_create_article(
                title=spec.title[language], body=spec.body[language].strip(), language=language,
                category=categories[spec.category], external_id=f"demo-{spec.key}-{language}",
                translation_of=original, acting_user=acting_user)
            made.append(do_publish_article(article, acting_user=acting_user))
            original = original or article
    return made
