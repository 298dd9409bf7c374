import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webmail.settings")

# WhiteNoise answers static files with a plain file iterator, which Django's ASGI handler reads
# whole (and warns about each time); they are small, and nginx may serve them instead (DEPLOY.md).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

application = get_asgi_application()
