"""Users with notices stored before the has_notices flag existed get the flag,
so NoticeMiddleware shows those notices on their next page."""

from django.db import migrations


def flag_pending(apps, schema_editor) -> None:
    User = apps.get_model("accounts", "User")
    Notice = apps.get_model("parties", "Notice")
    User.objects.filter(pk__in=Notice.objects.values("user_id")).update(has_notices=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_has_notices"),
        ("parties", "0006_listing_index"),
    ]

    operations = [migrations.RunPython(flag_pending, migrations.RunPython.noop)]
