from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    phone = models.CharField(max_length=32, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True)


class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    number = models.CharField(max_length=20, unique=True)
    total_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="eur")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def total(self):
        return self.total_cents / 100
