# SMS-registret och leveransrapporterna flyttade till smsportal (se smsportal 0003 och campaigns 0003).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_mfa_actions'),
    ]

    operations = [
        migrations.DeleteModel(
            name='DeliveryReport',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='provider_message_id',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='request_id',
        ),
    ]
