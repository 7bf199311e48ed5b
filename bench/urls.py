"""The app's URLs plus the floor page, which exists only under bench.settings."""

from django.urls import path

from bench.floor import floor
from smpclinic.urls import urlpatterns as app_urlpatterns

urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *app_urlpatterns]
