import django.db.models.functions.text
from django.db import migrations, models


def confirm_existing_accounts(apps, schema_editor):
    """Accounts made before addresses were confirmed keep getting their emails:
    they count as confirmed since they joined."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=models.F("date_joined")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_confirmed_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="email confirmed"),
        ),
        migrations.AddField(
            model_name="user",
            name="pending_email",
            field=models.EmailField(
                blank=True,
                editable=False,
                max_length=254,
                verbose_name="new email address, not yet confirmed",
            ),
        ),
        migrations.RunPython(confirm_existing_accounts, migrations.RunPython.noop),
        # An account whose unconfirmed address was released has none (""), and
        # several may: the rule is for real addresses only.
        migrations.RemoveConstraint(
            model_name="user",
            name="accounts_user_email_ci_unique",
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email already exists.",
            ),
        ),
    ]
