from django.urls import path

from djsite import views

urlpatterns = [
    path("hello", views.hello),
    path("items/<int:item_id>/", views.item),
    path("echo", views.echo),
    path("stream", views.stream),
    path("fail", views.fail),
]
