from django.db import migrations


def one_step_only(apps, schema_editor):
    """Apps set up before this accepted a code a step either side (about 90 s);
    from now on, one 30-second step (ASVS 6.5.5). The drift each has learnt stays."""
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    TOTPDevice.objects.exclude(tolerance=0).update(tolerance=0)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_session_device_last_seen"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(one_step_only, migrations.RunPython.noop)]
