"""Minimal Django settings for the end-to-end tests: no database, no
sessions, one middleware; served as ASGI (djsite.asgi) and WSGI (djsite.wsgi)."""
SECRET_KEY = "e2e-tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "djsite.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {}
USE_TZ = True
APPEND_SLASH = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
