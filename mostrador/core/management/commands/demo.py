"""``mostrador demo``: prepare the database, seed the demo desk once, print how to get in, and
serve it (web, task consumer and the embedded SMTP receiver) until interrupted."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from mostrador.core import demo
from mostrador.core.management.commands.seed_demo import add_seed_arguments, seed_and_report


class Command(BaseCommand):
    help = "Migrate, seed the demo desk when the desk is empty, and serve it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true",
                            help="do not add the demo desk, only migrate and serve")
        add_seed_arguments(parser)

    def handle(self, *args, host: str, port: int, no_seed: bool, conversations: int,
               customers: int, seed: int, **options) -> None:
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_seed:
            seed_and_report(self, conversations=conversations, customers=customers, seed=seed)
        self.stdout.write(self._banner(host, port))
        call_command("serve", host=host, port=port)

    def _banner(self, host: str, port: int) -> str:
        base = f"http://{host}:{port}"
        smtp = f"{settings.MOSTRADOR['SMTPD_HOST']}:{settings.MOSTRADOR['SMTPD_PORT']}"
        lines = [
            "",
            "Mostrador is starting.",
            "",
            f"  Desk        {base}/",
            f"  Help center {base}/help/ (the answer bot: {base}/help/es/ask/)",
            f"  Admin       {base}/admin/",
            f"  API docs    {base}/api/v1/docs",
            f"  Mail in     SMTP on {smtp}: mail to any address lands in the Soporte inbox",
        ]
        if demo.demo_desk_exists():
            width = max(len(email) for email, _label in demo.LOGINS)
            lines += ["", f"  Sign in with any of these (password: {demo.DEMO_PASSWORD})"]
            lines += [f"    {email:<{width}}  {label}"
                      for email, label in demo.LOGINS]
            token = demo.demo_api_token()
            if token:
                lines += [
                    "",
                    f"  API token for {demo.ADMIN_EMAIL}:",
                    f"    {token}",
                    f'    curl -H "Authorization: Bearer {token}" {base}/api/v1/conversations',
                ]
        host_, port_ = settings.MOSTRADOR["SMTPD_HOST"], settings.MOSTRADOR["SMTPD_PORT"]
        lines += [
            "",
            "  Send a test mail (it shows up as a new conversation):",
            "    python3 -c \"import smtplib; from email.message import EmailMessage; "
            "m = EmailMessage(); m['From'] = 'elena.martin@correo.example'; "
            "m['To'] = 'soporte@example.com'; m['Subject'] = 'Mi pedido no ha llegado'; "
            "m.set_content('Hola, hice un pedido hace una semana.'); "
            f"smtplib.SMTP('{host_}', {port_}).send_message(m)\"",
            "",
            f"Data folder: {settings.VAR_DIR}   Stop with Ctrl-C.",
            "",
        ]
        return "\n".join(lines)
