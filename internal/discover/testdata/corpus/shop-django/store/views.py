import logging
import secrets

import segment.analytics as analytics
import stripe
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import Order, Profile

log = logging.getLogger(__name__)


def _ensure_stripe_customer(user, profile):
    if profile.stripe_customer_id:
        return profile.stripe_customer_id
    customer = stripe.Customer.create(
        email=user.email,
        name=user.get_full_name(),
        address={
            "line1": profile.street,
            "city": profile.city,
            "postal_code": profile.postal_code,
            "country": profile.country,
        },
        metadata={"django_user_id": str(user.pk)},
    )
    profile.stripe_customer_id = customer.id
    profile.save(update_fields=["stripe_customer_id"])
    return customer.id


@login_required
def profile(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    if request.method == "POST":
        profile.phone = request.POST.get("phone", "")
        profile.street = request.POST.get("street", "")
        profile.city = request.POST.get("city", "")
        profile.postal_code = request.POST.get("postal_code", "")
        profile.country = request.POST.get("country", "")
        profile.save()

        user = request.user
        analytics.identify(user.id, {
            "email": user.email,
            "name": user.get_full_name(),
            "phone": profile.phone,
        })
        return redirect("store:profile")
    return render(request, "store/profile.html", {"profile": profile})


@login_required
@require_POST
def checkout(request):
    user = request.user
    profile, _ = Profile.objects.get_or_create(user=user)
    cart = request.session.get("cart", {})
    total_cents = sum(item["price_cents"] * item["qty"] for item in cart.values())

    with transaction.atomic():
        order = Order.objects.create(
            user=user,
            number=secrets.token_hex(5).upper(),
            total_cents=total_cents,
        )
        customer_id = _ensure_stripe_customer(user, profile)
        intent = stripe.PaymentIntent.create(
            amount=order.total_cents,
            currency=order.currency,
            customer=customer_id,
            metadata={"order_number": order.number},
            automatic_payment_methods={"enabled": True},
        )

    analytics.track(user.id, "Order Completed", {
        "order_id": order.number,
        "revenue": order.total,
        "currency": order.currency,
    })
    log.info("created payment intent %s for order %s", intent.id, order.number)
    request.session["client_secret"] = intent.client_secret
    return redirect("store:order_complete", number=order.number)


@login_required
def order_complete(request, number):
    order = get_object_or_404(Order, number=number, user=request.user)
    return render(request, "store/order_complete.html", {"order": order})
