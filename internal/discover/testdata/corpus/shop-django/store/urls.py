from django.urls import path

from . import views

app_name = "store"

urlpatterns = [
    path("account/profile/", views.profile, name="profile"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<str:number>/complete/", views.order_complete, name="order_complete"),
]
