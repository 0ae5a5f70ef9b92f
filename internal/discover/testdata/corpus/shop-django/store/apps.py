from django.apps import AppConfig
from django.conf import settings


class StoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "store"

    def ready(self):
        import segment.analytics as analytics
        import stripe

        analytics.write_key = settings.SEGMENT_WRITE_KEY
        analytics.send = bool(settings.SEGMENT_WRITE_KEY)
        stripe.api_key = settings.STRIPE_SECRET_KEY
