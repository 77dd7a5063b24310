"""Two factors (#28): the workspace settings that require them, and allauth email addresses for
the accounts made before allauth.

The two settings are added off for every existing workspace (its people were never asked), and
"for admins" is on by default only for workspaces made from now on. Each user with an email
address gets it as their primary, verified allauth address, so the change-email page shows it
and a reset link can be sent to it; an address two accounts share (case aside) is left to
neither, as allauth keeps addresses unique."""

from __future__ import annotations

from django.db import migrations, models


def add_email_addresses(apps, schema_editor):
    User = apps.get_model("auth", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    users = list(User.objects.exclude(email="").values_list("pk", "email"))
    counts: dict[str, int] = {}
    for _pk, email in users:
        counts[email.lower()] = counts.get(email.lower(), 0) + 1
    taken = {email.lower() for email in EmailAddress.objects.values_list("email", flat=True)}
    with_one = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=pk, email=email.lower(), verified=True, primary=True)
        for pk, email in users
        if counts[email.lower()] == 1 and email.lower() not in taken and pk not in with_one
    )


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0029_ideas_sources"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        # db_default: the rows that exist now, and any the previous release writes while a
        # deploy rolls, are off; the app's own default (on) is for workspaces made from now.
        migrations.AddField(
            model_name="workspace",
            name="require_two_factor_admins",
            field=models.BooleanField(
                default=True,
                db_default=False,
                help_text="Admins of this workspace enrol an authenticator app or a passkey "
                "when they next sign in, and cannot use the app until they have.",
                verbose_name="Require two-factor for admins",
            ),
        ),
        migrations.AddField(
            model_name="workspace",
            name="require_two_factor_everyone",
            field=models.BooleanField(
                default=False,
                db_default=False,
                help_text="Every member enrols a second factor when they next sign in.",
                verbose_name="Require two-factor for everyone",
            ),
        ),
        migrations.RunPython(add_email_addresses, migrations.RunPython.noop),
    ]
