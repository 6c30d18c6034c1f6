from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_PASSWORD = "dinner-party-demo-2026"
DEMO_USERS = [
    ("ana", "ana@example.com", "Ana", "García", "vegetarian"),
    ("ben", "ben@example.com", "Ben", "Okafor", ""),
    ("chloe", "chloe@example.com", "Chloé", "Martin", "no nuts"),
    ("dev", "dev@example.com", "Dev", "Patel", "gluten-free"),
]


class Command(BaseCommand):
    help = "Load a small demo data set (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        for username, email, first, last, diet in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "dietary_notes": diet,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        names = ", ".join(u[0] for u in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(f"Demo users: {names} — password for each: {DEMO_PASSWORD}")
        )
