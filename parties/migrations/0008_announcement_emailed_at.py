from django.db import migrations, models


def mark_sent(apps, schema_editor):
    """Messages posted before this existed were emailed when they were posted."""
    Announcement = apps.get_model("parties", "Announcement")
    Announcement.objects.update(emailed_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0007_flag_pending_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="announcement",
            name="emailed_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(mark_sent, migrations.RunPython.noop),
    ]
