from django.contrib.auth.management import create_permissions
from django.db import migrations

HOST_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("dinnerparty", "rsvp")
    for action in ("add", "change", "delete", "view")
]


def create_hosts_group(apps, schema_editor):
    # Permissions are normally made after migrate; make them now for the group.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    hosts, _created = Group.objects.get_or_create(name="Hosts")
    hosts.permissions.add(
        *Permission.objects.filter(content_type__app_label="parties", codename__in=HOST_PERMISSIONS)
    )


def remove_hosts_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Hosts").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_hosts_group, remove_hosts_group)]
